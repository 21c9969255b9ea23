// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format.h"

#define AF_INET_ 2
#define AF_INET6_ 10

void format_addr(const struct nfsg_event *e, char *buf, size_t len)
{
	int af = e->family == AF_INET_ ? AF_INET :
		 e->family == AF_INET6_ ? AF_INET6 : -1;

	if (af < 0 || !inet_ntop(af, e->daddr, buf, len))
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
	}
	return "unknown";
}

static const char *family_name(__u16 family)
{
	return family == AF_INET_ ? "inet" : family == AF_INET6_ ? "inet6" : "?";
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
	fprintf(out, "%-8s %-7s %-15s %-6s %-2s %-15s %-5s %-7s %s\n", "TIME",
		"PID", "COMM", "UID", "IP", "DADDR", "DPORT", "VERDICT",
		"CGROUP");
}

static void event_text(FILE *out, const struct nfsg_event *e, __u64 wall_ns,
		       const char *cgroup)
{
	char addr[INET6_ADDRSTRLEN], comm[NFSG_COMM_LEN + 1], hms[16];
	time_t secs = wall_ns / 1000000000ULL;
	struct tm tm;

	if (!localtime_r(&secs, &tm) ||
	    !strftime(hms, sizeof(hms), "%H:%M:%S", &tm))
		snprintf(hms, sizeof(hms), "?");
	format_addr(e, addr, sizeof(addr));
	text_comm(e->comm, comm, sizeof(comm));
	fprintf(out, "%-8s %-7u %-15s %-6u %-2s %-15s %-5u %-7s %s\n", hms,
		e->pid, comm, e->uid, e->family == AF_INET6_ ? "6" : "4", addr,
		e->dport, verdict_name(e->verdict), cgroup);
}

static void event_json(FILE *out, const struct nfsg_event *e, __u64 wall_ns,
		       const char *cgroup)
{
	char addr[INET6_ADDRSTRLEN], when[48], proto[8];

	format_addr(e, addr, sizeof(addr));
	format_rfc3339(wall_ns, when, sizeof(when));
	fprintf(out,
		"{\"time\":\"%s\",\"type\":\"connect\",\"verdict\":\"%s\","
		"\"pid\":%u,\"tid\":%u,\"uid\":%u,\"gid\":%u,\"comm\":",
		when, verdict_name(e->verdict), e->pid, e->tid, e->uid, e->gid);
	format_json_string(out, e->comm, NFSG_COMM_LEN);
	fprintf(out, ",\"cgroup_id\":%llu,\"cgroup\":",
		(unsigned long long)e->cgroup_id);
	format_json_string(out, cgroup, strlen(cgroup));
	fprintf(out,
		",\"family\":\"%s\",\"daddr\":\"%s\",\"dport\":%u,"
		"\"protocol\":\"%s\"}\n",
		family_name(e->family), addr, e->dport,
		format_protocol(e->protocol, proto, sizeof(proto)));
}

void format_event(FILE *out, enum format_kind kind,
		  const struct nfsg_event *e, __u64 wall_ns,
		  const char *cgroup)
{
	if (kind == FORMAT_JSON)
		event_json(out, e, wall_ns, cgroup);
	else
		event_text(out, e, wall_ns, cgroup);
}
