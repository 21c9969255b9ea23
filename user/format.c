// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format.h"

void format_addr(const struct nfsg_event *e, char *buf, size_t len)
{
	/* The kernel's AF_* numbers are the C library's. */
	if ((e->family != AF_INET && e->family != AF_INET6) ||
	    !inet_ntop(e->family, e->daddr, buf, len))
		snprintf(buf, len, "?");
}

const char *format_protocol(__u16 protocol, char *buf, size_t len)
{
	switch (protocol) {
	case NFSG_PROTO_TCP:
		return "tcp";
	case NFSG_PROTO_UDP:
		return "udp";
	case NFSG_PROTO_MPTCP:
		return "mptcp";
	}
	snprintf(buf, len, "%u", protocol);
	return buf;
}

static const char *verdict_name(__u8 verdict)
{
	switch (verdict) {
	case NFSG_VERDICT_ALLOW:
		return "allowed";
	case NFSG_VERDICT_REFUSE:
		return "refused";
	case NFSG_VERDICT_AUDIT:
		return "audited";
	}
	return "unknown";
}

static const char *cgroup_action(__u8 kind)
{
	return kind == NFSG_EV_CGROUP_ADDED ? "added" : "removed";
}

static bool is_trace(__u8 kind)
{
	return kind >= NFSG_EV_ESTABLISHED && kind <= NFSG_EV_CLOSED;
}

static const char *outcome_name(__u8 kind)
{
	switch (kind) {
	case NFSG_EV_ESTABLISHED:
		return "established";
	case NFSG_EV_RESET:
		return "reset";
	case NFSG_EV_TIMEOUT:
		return "timeout";
	case NFSG_EV_FAILED:
		return "failed";
	}
	return "closed";
}

/* ECONNREFUSED, or the number. */
static const char *errno_name(int err, char *buf, size_t len)
{
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	if (name)
		return name;
	snprintf(buf, len, "%d", err);
	return buf;
}

static const char *family_name(__u16 family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "?";
}

void format_rfc3339(__u64 wall_ns, char *buf, size_t len)
{
	time_t secs = wall_ns / 1000000000ULL;
	struct tm tm;
	char day[32];

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s.%06lluZ", day,
		 (unsigned long long)(wall_ns % 1000000000ULL) / 1000);
}

/* comm is chosen by the process: keep the column readable. */
static void text_comm(const char *comm, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && i < NFSG_COMM_LEN && comm[i]; i++) {
		unsigned char c = comm[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : c == ' ' ? '_' : c;
	}
	buf[i] = '\0';
}

void format_json_string(FILE *out, const char *s, size_t max)
{
	size_t i;

	fputc('"', out);
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			/* Bytes, not UTF-8: keep the line valid JSON. */
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void format_header(FILE *out, enum format_kind kind)
{
	if (kind != FORMAT_TEXT)
		return;
	fprintf(out, "%-8s %-7s %-15s %-6s %-15s %-5s %-7s %-8s %s\n", "TIME",
		"PID", "COMM", "UID", "DADDR", "DPORT", "VERDICT", "POLICY",
		"CGROUP");
}

static void text_time(__u64 wall_ns, char *buf, size_t len)
{
	time_t secs = wall_ns / 1000000000ULL;
	struct tm tm;

	if (!localtime_r(&secs, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "?");
}

/* After the cgroup column: what a tracing record adds. */
static void trace_text_tail(FILE *out, const struct nfsg_trace_event *t)
{
	char num[16];

	switch (t->e.kind) {
	case NFSG_EV_ESTABLISHED:
		fprintf(out, " latency=%lluus",
			(unsigned long long)t->duration_ns / 1000);
		break;
	case NFSG_EV_FAILED:
		fprintf(out, " error=%s", errno_name(t->error, num, sizeof(num)));
		break;
	case NFSG_EV_CLOSED:
		fprintf(out, " lifetime=%lluus sent=%llu received=%llu",
			(unsigned long long)t->duration_ns / 1000,
			(unsigned long long)t->bytes_sent,
			(unsigned long long)t->bytes_received);
		break;
	}
}

static void event_text(FILE *out, const struct nfsg_event *e,
		       const struct format_names *n)
{
	char addr[INET6_ADDRSTRLEN], comm[NFSG_COMM_LEN + 1], hms[16];

	text_time(n->wall_ns, hms, sizeof(hms));
	text_comm(e->comm, comm, sizeof(comm));
	if (e->suppressed)
		fprintf(out, "%-8s %u similar attempts suppressed (uid %u, cgroup %s)\n",
			hms, e->suppressed, e->uid, n->cgroup);
	if (e->kind == NFSG_EV_CGROUP_ADDED || e->kind == NFSG_EV_CGROUP_REMOVED) {
		fprintf(out, "%-8s %-7u %-15s %-6s %-15s %-5s %-7s %-8s %s\n",
			hms, e->pid, comm, "-", "-", "-",
			cgroup_action(e->kind), n->policy, n->cgroup);
		return;
	}
	format_addr(e, addr, sizeof(addr));
	fprintf(out, "%-8s %-7u %-15s %-6u %-15s %-5u %-7s %-8s %s", hms,
		e->pid, comm, e->uid, addr, e->dport,
		is_trace(e->kind) ? outcome_name(e->kind)
				  : verdict_name(e->verdict),
		n->policy, n->cgroup);
	if (is_trace(e->kind))
		trace_text_tail(out, (const struct nfsg_trace_event *)e);
	fputc('\n', out);
}

/* What a tracing record adds, each field followed by a comma. */
static void trace_json_fields(FILE *out, const struct nfsg_trace_event *t)
{
	char num[16];

	if (t->e.kind != NFSG_EV_CLOSED)
		fprintf(out, "\"outcome\":\"%s\",", outcome_name(t->e.kind));
	switch (t->e.kind) {
	case NFSG_EV_ESTABLISHED:
		fprintf(out, "\"latency_us\":%llu,",
			(unsigned long long)t->duration_ns / 1000);
		break;
	case NFSG_EV_FAILED:
	case NFSG_EV_TIMEOUT:
	case NFSG_EV_RESET:
		fprintf(out, "\"error\":\"%s\",\"errno\":%d,\"elapsed_us\":%llu,",
			t->error ? errno_name(t->error, num, sizeof(num)) : "",
			t->error, (unsigned long long)t->duration_ns / 1000);
		break;
	case NFSG_EV_CLOSED:
		fprintf(out, "\"lifetime_us\":%llu,\"bytes_sent\":%llu,"
			"\"bytes_received\":%llu,",
			(unsigned long long)t->duration_ns / 1000,
			(unsigned long long)t->bytes_sent,
			(unsigned long long)t->bytes_received);
		break;
	}
	fprintf(out, "\"cookie\":%llu,", (unsigned long long)t->cookie);
}

static void event_json(FILE *out, const struct nfsg_event *e,
		       const struct format_names *n)
{
	char addr[INET6_ADDRSTRLEN], when[48], proto[8];

	format_rfc3339(n->wall_ns, when, sizeof(when));
	if (e->kind == NFSG_EV_CGROUP_ADDED || e->kind == NFSG_EV_CGROUP_REMOVED) {
		fprintf(out, "{\"time\":\"%s\",\"type\":\"cgroup\","
			"\"action\":\"%s\",\"policy\":",
			when, cgroup_action(e->kind));
		format_json_string(out, n->policy, strlen(n->policy));
		fprintf(out, ",\"cgroup_id\":%llu,\"cgroup\":",
			(unsigned long long)e->cgroup_id);
		format_json_string(out, n->cgroup, strlen(n->cgroup));
		fprintf(out, ",\"pid\":%u,\"comm\":", e->pid);
		format_json_string(out, e->comm, NFSG_COMM_LEN);
		fputs("}\n", out);
		return;
	}
	if (e->suppressed) {
		fprintf(out, "{\"time\":\"%s\",\"type\":\"suppressed\","
			"\"count\":%u,\"uid\":%u,\"cgroup_id\":%llu,\"cgroup\":",
			when, e->suppressed, e->uid,
			(unsigned long long)e->cgroup_id);
		format_json_string(out, n->cgroup, strlen(n->cgroup));
		fputs("}\n", out);
	}
	format_addr(e, addr, sizeof(addr));
	fprintf(out, "{\"time\":\"%s\",\"type\":\"%s\",\"verdict\":\"%s\",",
		when, e->kind == NFSG_EV_CLOSED ? "close" : "connect",
		verdict_name(e->verdict));
	if (is_trace(e->kind))
		trace_json_fields(out, (const struct nfsg_trace_event *)e);
	fputs("\"policy\":", out);
	format_json_string(out, n->policy, strlen(n->policy));
	fprintf(out, ",\"pid\":%u,\"tid\":%u,\"uid\":%u,\"gid\":%u,\"comm\":",
		e->pid, e->tid, e->uid, e->gid);
	format_json_string(out, e->comm, NFSG_COMM_LEN);
	fprintf(out, ",\"cgroup_id\":%llu,\"cgroup\":",
		(unsigned long long)e->cgroup_id);
	format_json_string(out, n->cgroup, strlen(n->cgroup));
	fprintf(out,
		",\"family\":\"%s\",\"daddr\":\"%s\",\"dport\":%u,"
		"\"protocol\":\"%s\"}\n",
		family_name(e->family), addr, e->dport,
		format_protocol(e->protocol, proto, sizeof(proto)));
}

void format_event(FILE *out, enum format_kind kind,
		  const struct nfsg_event *e, const struct format_names *n)
{
	if (kind == FORMAT_JSON)
		event_json(out, e, n);
	else
		event_text(out, e, n);
}

void format_dropped(FILE *out, enum format_kind kind, __u64 count,
		    __u64 wall_ns)
{
	char when[48];

	if (kind == FORMAT_JSON) {
		format_rfc3339(wall_ns, when, sizeof(when));
		fprintf(out, "{\"time\":\"%s\",\"type\":\"dropped\",\"count\":%llu}\n",
			when, (unsigned long long)count);
		return;
	}
	text_time(wall_ns, when, sizeof(when));
	fprintf(out, "%-8s %llu events dropped: the ring buffer was full\n", when,
		(unsigned long long)count);
}
