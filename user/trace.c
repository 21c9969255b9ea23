// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "trace.h"

/* Latencies kept per destination and interval; beyond, the rest count. */
#define TRACE_MAX_SAMPLES 8192

/* A destination: an address and port in one network namespace. */
struct trace_dest {
	__u32 netns;
	__u16 family, dport;
	__u8 daddr[16];
	__u64 attempts, refused, established, failed;
	__u64 *lat_ns;
	size_t n_lat, cap_lat;
};

static struct trace_dest *dest_of(struct trace_summary *s,
				  const struct nfsg_event *e)
{
	struct trace_dest *d, *grown;
	size_t i;

	for (i = 0; i < s->n; i++) {
		d = &s->d[i];
		if (d->netns == e->netns && d->family == e->family &&
		    d->dport == e->dport && !memcmp(d->daddr, e->daddr, sizeof(d->daddr)))
			return d;
	}
	if (s->n == s->cap) {
		grown = realloc(s->d, (s->cap ? 2 * s->cap : 16) * sizeof(*s->d));
		if (!grown)
			return NULL;
		s->d = grown;
		s->cap = s->cap ? 2 * s->cap : 16;
	}
	d = &s->d[s->n++];
	memset(d, 0, sizeof(*d));
	d->netns = e->netns;
	d->family = e->family;
	d->dport = e->dport;
	memcpy(d->daddr, e->daddr, sizeof(d->daddr));
	return d;
}

void trace_summary_add(struct trace_summary *s, const struct nfsg_event *e,
		       __u64 latency_ns)
{
	struct trace_dest *d = dest_of(s, e);
	__u64 *grown;

	if (!d || e->kind == NFSG_EV_CLOSED)
		return;
	d->attempts++;
	switch (e->kind) {
	case NFSG_EV_CONNECT:
		if (e->verdict == NFSG_VERDICT_REFUSE)
			d->refused++;
		return;
	case NFSG_EV_ESTABLISHED:
		d->established++;
		break;
	default:
		d->failed++;
		return;
	}
	if (d->n_lat == d->cap_lat && d->cap_lat < TRACE_MAX_SAMPLES) {
		grown = realloc(d->lat_ns, (d->cap_lat ? 2 * d->cap_lat : 64) *
					   sizeof(*grown));
		if (!grown)
			return;
		d->lat_ns = grown;
		d->cap_lat = d->cap_lat ? 2 * d->cap_lat : 64;
	}
	if (d->n_lat < d->cap_lat)
		d->lat_ns[d->n_lat++] = latency_ns;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile, in microseconds; 0 without samples. */
static double percentile_us(const struct trace_dest *d, unsigned int pct)
{
	size_t rank;

	if (!d->n_lat)
		return 0;
	rank = (d->n_lat * pct + 99) / 100;
	return d->lat_ns[rank ? rank - 1 : 0] / 1000.0;
}

/*
 * Text: a line with the date and time, then the header and one row per
 * destination (its network namespace's inode, port and address), the
 * address last (shortened to column 80 without -w); an
 * interval without attempts is that one line, "no attempts". JSON: one
 * summary record per destination, each with its time; nothing when idle.
 */
/*
 * A latency in at most 7 columns: microseconds with one decimal below 10
 * ms, whole microseconds below 10 s, whole seconds ("12s") above.
 */
#define LATENCY_TEXT 16
static const char *latency_text(double us, char buf[LATENCY_TEXT])
{
	if (us < 9999.95)
		snprintf(buf, LATENCY_TEXT, "%.1f", us);
	else if (us < 9999999.5)
		snprintf(buf, LATENCY_TEXT, "%.0f", us);
	else
		snprintf(buf, LATENCY_TEXT, "%.0fs", us / 1e6);
	return buf;
}

void trace_summary_flush(struct trace_summary *s, FILE *out, bool json,
			 __u64 wall_ns)
{
	char addr[INET6_ADDRSTRLEN], when[48], fit[2 * INET6_ADDRSTRLEN];
	char p50[LATENCY_TEXT], p99[LATENCY_TEXT];
	bool wide = format_text_flags & FORMAT_WIDE;
	struct nfsg_event e = {};
	struct trace_dest *d;
	size_t i;
	int room;

	if (json) {
		format_rfc3339(wall_ns, when, sizeof(when));
	} else {
		format_local_time(wall_ns, when, sizeof(when));
		fprintf(out, "%s%s\n", when, s->n ? "" : " no attempts");
		if (s->n)
			fprintf(out, "%8s %7s %5s %6s %7s %7s %-10s %-5s %s\n",
				"ATTEMPTS", "REFUSED", "ESTAB", "FAILED", "P50(us)",
				"P99(us)", "NETNS", "DPORT", "DADDR");
	}
	for (i = 0; i < s->n; i++) {
		d = &s->d[i];
		qsort(d->lat_ns, d->n_lat, sizeof(*d->lat_ns), cmp_u64);
		e.family = d->family;
		memcpy(e.daddr, d->daddr, sizeof(e.daddr));
		format_addr(&e, addr, sizeof(addr));
		if (json) {
			fprintf(out,
				"{\"time\":\"%s\",\"type\":\"summary\",\"netns\":%u,"
				"\"daddr\":\"%s\",\"dport\":%u,\"attempts\":%llu,\"refused\":%llu,"
				"\"established\":%llu,\"failed\":%llu,"
				"\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
				when, d->netns, addr, d->dport,
				(unsigned long long)d->attempts,
				(unsigned long long)d->refused,
				(unsigned long long)d->established,
				(unsigned long long)d->failed,
				percentile_us(d, 50), percentile_us(d, 99));
		} else {
			room = fprintf(out, "%8llu %7llu %5llu %6llu %7s %7s %-10u %-5u ",
				       (unsigned long long)d->attempts,
				       (unsigned long long)d->refused,
				       (unsigned long long)d->established,
				       (unsigned long long)d->failed,
				       latency_text(percentile_us(d, 50), p50),
				       latency_text(percentile_us(d, 99), p99),
				       d->netns, d->dport);
			room = FORMAT_COLUMNS - (room > 0 ? room : 0);
			if (wide || room < 2 || strlen(addr) <= (size_t)room)
				fprintf(out, "%s\n", addr);
			else
				fprintf(out, "%s\n", format_fit(addr, sizeof(addr), 0,
								 room, fit, sizeof(fit)));
		}
		free(d->lat_ns);
	}
	s->n = 0;
}

void trace_summary_free(struct trace_summary *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->d[i].lat_ns);
	free(s->d);
	memset(s, 0, sizeof(*s));
}
