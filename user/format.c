// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include "format.h"

/* a.b.c.d into buf (room for INET_ADDRSTRLEN): inet_ntop's text, where
 * glibc's takes a sprintf per address, the most of an event's cost. */
static void ipv4_text(const __u8 *addr, char *buf)
{
	char *p = buf;
	int i;

	for (i = 0; i < 4; i++) {
		if (addr[i] >= 100)
			*p++ = '0' + addr[i] / 100;
		if (addr[i] >= 10)
			*p++ = '0' + addr[i] / 10 % 10;
		*p++ = '0' + addr[i] % 10;
		*p++ = i < 3 ? '.' : '\0';
	}
}

/* An address of family (IPv4: its first 4 bytes) as text, or "?". */
static void ip_text(__u16 family, const __u8 *addr, char *buf, size_t len)
{
	/* The kernel's AF_* numbers are the C library's. */
	if (family == AF_INET && len >= INET_ADDRSTRLEN)
		ipv4_text(addr, buf);
	else if ((family != AF_INET && family != AF_INET6) ||
		 !inet_ntop(family, addr, buf, len))
		snprintf(buf, len, "?");
}

void format_addr(const struct nfsg_event *e, char *buf, size_t len)
{
	ip_text(e->family, e->daddr, buf, len);
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

const char *format_reason(__u8 reason)
{
	switch (reason) {
	case NFSG_REASON_OWNER:
		return "owner";
	case NFSG_REASON_DESTINATION:
		return "destination";
	}
	return NULL;
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
const char *format_errno_name(int err, char *buf, size_t len)
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
	/* Events come in bursts within a second: convert each second once. */
	static __thread time_t cached = -1;
	static __thread char day[32];
	time_t secs = wall_ns / 1000000000ULL;
	unsigned long long usec;
	struct tm tm;
	size_t n;
	int i;

	if (secs != cached) {
		if (!gmtime_r(&secs, &tm) ||
		    !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm)) {
			snprintf(buf, len, "?");
			return;
		}
		cached = secs;
	}
	/* No printf per event: "<day>.<6 digits>Z" by hand. */
	if (len < sizeof(day) + 9) {
		snprintf(buf, len, "?");
		return;
	}
	usec = (wall_ns % 1000000000ULL) / 1000;
	n = strlen(day);
	memcpy(buf, day, n);
	buf[n] = '.';
	for (i = 6; i > 0; i--, usec /= 10)
		buf[n + i] = '0' + usec % 10;
	buf[n + 7] = 'Z';
	buf[n + 8] = '\0';
}

void format_text_string(FILE *out, const char *s, size_t max, unsigned flags)
{
	size_t i, start = 0;
	char esc[ESC_MAX];

	for (i = 0; i < max && s[i]; i++) {
		if (esc_safe(s[i], flags))
			continue;
		fwrite(s + start, 1, i - start, out);
		fwrite(esc, 1, esc_byte(s[i], esc), out);
		start = i + 1;
	}
	fwrite(s + start, 1, i - start, out);
}

/* How long s (from its byte i on) is once escaped. */
static size_t escaped_len(const char *s, size_t i, size_t max, unsigned flags)
{
	char esc[ESC_MAX];
	size_t n = 0;

	for (; i < max && s[i]; i++)
		n += esc_safe(s[i], flags) ? 1 : esc_byte(s[i], esc);
	return n;
}

const char *format_escape(const char *s, size_t max, unsigned flags,
			  char *buf, size_t len)
{
	size_t i, n = 0, k, room;
	char esc[ESC_MAX];

	if (!len)
		return buf;
	room = len - 1;
	for (i = 0; i < max && s[i]; i++) {
		if (esc_safe(s[i], flags)) {
			esc[0] = s[i];
			k = 1;
		} else {
			k = esc_byte(s[i], esc);
		}
		/* Keep room for "..." unless the rest fits as it is. */
		if (n + k + 3 > room && n + escaped_len(s, i, max, flags) > room) {
			if (n + 3 <= room) {
				memcpy(buf + n, "...", 3);
				n += 3;
			}
			break;
		}
		memcpy(buf + n, esc, k);
		n += k;
	}
	buf[n] = '\0';
	return buf;
}

unsigned format_text_flags;

/* The escape of s[i]: its bytes into esc, its length returned. */
static size_t esc_token(unsigned char c, unsigned flags, char esc[ESC_MAX])
{
	if (esc_safe(c, flags)) {
		esc[0] = c;
		return 1;
	}
	return esc_byte(c, esc);
}

const char *format_fit(const char *s, size_t max, unsigned flags,
		       size_t width, char *buf, size_t len)
{
	size_t n = strnlen(s, max), total, head, tail, i, j, k, used = 0;
	char esc[ESC_MAX];

	if (!len)
		return buf;
	if (width >= len)
		width = len - 1;
	total = escaped_len(s, 0, n, flags);
	if (total <= width) {
		/* Whole, then padded to the column. */
		for (i = 0; i < n; i++) {
			k = esc_token(s[i], flags, esc);
			memcpy(buf + used, esc, k);
			used += k;
		}
	} else if (width > 0) {
		/* Head and tail, whole escapes only, around the marker. */
		head = (width - 1) / 2;
		for (i = 0; i < n; i++) {
			k = esc_token(s[i], flags, esc);
			if (used + k > head)
				break;
			memcpy(buf + used, esc, k);
			used += k;
		}
		buf[used++] = FORMAT_MARK;
		tail = width - used;
		for (j = n, k = 0; j > i; j--) {
			size_t t = esc_token(s[j - 1], flags, esc);

			if (k + t > tail)
				break;
			k += t;
		}
		for (; j < n; j++)
			used += esc_token(s[j], flags, buf + used);
	}
	while (used < width)
		buf[used++] = ' ';
	buf[used] = '\0';
	return buf;
}

/* Text columns: name, width (a minimum with -w). */
enum col { COL_TIME, COL_PID, COL_COMM, COL_UID, COL_DADDR, COL_DPORT,
	   COL_VERDICT, COL_REASON, COL_POLICY, COL_NETNS, COL_MAX };

static const struct { const char *name; unsigned width; } cols[COL_MAX] = {
	[COL_TIME] = { "DATE       TIME", 19 },	/* 2026-11-26 13:40:01 */
	[COL_PID] = { "PID", 7 },
	[COL_COMM] = { "COMM", 12 },
	[COL_UID] = { "UID", 6 },
	[COL_DADDR] = { "DADDR", 15 },		/* an IPv4 address */
	[COL_DPORT] = { "DPORT", 5 },
	[COL_VERDICT] = { "VERDICT", 11 },	/* established */
	[COL_REASON] = { "REASON", 6 },
	[COL_POLICY] = { "POLICY", 8 },		/* with -w only */
	[COL_NETNS] = { "NETNS", 10 },		/* with -w only: an inode */
};

static bool col_wide_only(enum col c)
{
	return c == COL_POLICY || c == COL_NETNS;
}

static bool col_shown(enum col c)
{
	if (c == COL_TIME)
		return format_text_flags & FORMAT_TIMESTAMP;
	if (col_wide_only(c))
		return format_text_flags & FORMAT_WIDE;
	return true;
}

/* Where the last column, the cgroup, starts (without -T). */
static size_t cgroup_start(void)
{
	size_t at = 0;
	int c;

	for (c = COL_PID; c < COL_MAX; c++)
		if (col_shown(c) && !col_wide_only(c))
			at += cols[c].width + 1;
	return at;
}

/*
 * One column of a row: s escaped (no blank in it, so a row splits on
 * blanks), then padded. By default it is shortened in the middle to the
 * column's width; with -w it is whole, and may push the next ones right.
 */
static void put_col(FILE *out, enum col c, const char *s, size_t max)
{
	char buf[ESC_MAX * PATH_MAX + 1];

	if (!col_shown(c))
		return;
	if (format_text_flags & FORMAT_WIDE) {
		format_text_string(out, s, max, ESC_BLANK);
		for (max = escaped_len(s, 0, strnlen(s, max), ESC_BLANK);
		     max < cols[c].width; max++)
			fputc(' ', out);
	} else {
		fputs(format_fit(s, max, ESC_BLANK, cols[c].width, buf,
				 sizeof(buf)), out);
	}
	fputc(' ', out);
}

static void put_col_u(FILE *out, enum col c, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", v);
	put_col(out, c, num, sizeof(num));
}

/* The last column: to column 80 by default, whole with -w. */
static void put_last(FILE *out, const char *s)
{
	char buf[ESC_MAX * PATH_MAX + 1];
	size_t room = FORMAT_COLUMNS - cgroup_start();

	if (format_text_flags & FORMAT_WIDE) {
		format_text_string(out, s, strlen(s), ESC_BLANK);
		return;
	}
	/* Not padded: no blank at the end of a row (and none within). */
	if (escaped_len(s, 0, strlen(s), ESC_BLANK) <= room) {
		format_text_string(out, s, strlen(s), ESC_BLANK);
	} else {
		format_fit(s, strlen(s), ESC_BLANK, room, buf, sizeof(buf));
		fwrite(buf, 1, strcspn(buf, " "), out);
	}
}

void format_header(FILE *out, enum format_kind kind)
{
	int c;

	if (kind != FORMAT_TEXT)
		return;
	for (c = 0; c < COL_MAX; c++)
		if (col_shown(c))
			fprintf(out, "%-*s ", (int)cols[c].width, cols[c].name);
	fputs("CGROUP\n", out);
}

void format_local_time(__u64 wall_ns, char *buf, size_t len)
{
	time_t secs = wall_ns / 1000000000ULL;
	struct tm tm;

	if (!localtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
}

/* The DATE and TIME columns, with -T. */
static void put_time(FILE *out, __u64 wall_ns)
{
	char when[32];

	if (!(format_text_flags & FORMAT_TIMESTAMP))
		return;
	format_local_time(wall_ns, when, sizeof(when));
	fprintf(out, "%-*s ", (int)cols[COL_TIME].width, when);
}

/* 72us, 1.2ms, 35ms, 4.1s, 73s: at most 6 columns. */
static const char *short_duration(__u64 ns, char *buf, size_t len)
{
	__u64 us = ns / 1000;

	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 10000)
		snprintf(buf, len, "%.1fms", us / 1000.0);
	else if (us < 1000000)
		snprintf(buf, len, "%llums", (unsigned long long)us / 1000);
	else if (us < 10000000)
		snprintf(buf, len, "%.1fs", us / 1000000.0);
	else
		snprintf(buf, len, "%llus", (unsigned long long)us / 1000000);
	return buf;
}

/*
 * The REASON column: why a connect was refused or audited ("dest" for
 * destination without -w); for an outcome, its latency, error or lifetime.
 */
static const char *text_reason(const struct nfsg_event *e, char *buf,
			       size_t len)
{
	const struct nfsg_trace_event *t = (const struct nfsg_trace_event *)e;
	bool wide = format_text_flags & FORMAT_WIDE;
	const char *r;

	switch (is_trace(e->kind) ? e->kind : 0) {
	case NFSG_EV_ESTABLISHED:
	case NFSG_EV_CLOSED:
		return short_duration(t->duration_ns, buf, len);
	case NFSG_EV_FAILED:
	case NFSG_EV_RESET:
	case NFSG_EV_TIMEOUT:
		if (!t->error)
			return "-";
		if (t->error == NFSG_ERROR_UNKNOWN)
			return "?";
		/* The name with -w; the number fits the column. */
		if (wide)
			return format_errno_name(t->error, buf, len);
		snprintf(buf, len, "%d", t->error);
		return buf;
	}
	r = format_reason(e->reason);
	if (!r)
		return "-";
	/* A TLS relay's local port: the owner could reach EFS through it. */
	if (e->local && e->reason == NFSG_REASON_OWNER)
		return wide ? "owner,tls-relay" : "relay";
	return !wide && e->reason == NFSG_REASON_DESTINATION ? "dest" : r;
}

/* After the cgroup column, with -w: what a tracing record adds. */
static void trace_text_tail(FILE *out, const struct nfsg_trace_event *t)
{
	char num[16];

	switch (t->e.kind) {
	case NFSG_EV_ESTABLISHED:
		fprintf(out, " latency=%lluus",
			(unsigned long long)t->duration_ns / 1000);
		break;
	case NFSG_EV_FAILED:
	case NFSG_EV_RESET:
	case NFSG_EV_TIMEOUT:
		fprintf(out, " error=%s",
			t->error == NFSG_ERROR_UNKNOWN ? "?" :
			t->error ? format_errno_name(t->error, num, sizeof(num)) : "-");
		break;
	case NFSG_EV_CLOSED:
		fprintf(out, " lifetime=%lluus sent=%llu received=%llu",
			(unsigned long long)t->duration_ns / 1000,
			(unsigned long long)t->bytes_sent,
			(unsigned long long)t->bytes_received);
		break;
	}
}

/* "N similar attempts suppressed (uid U, cgroup PATH)", within 80. */
static void text_suppressed(FILE *out, const struct nfsg_event *e,
			    const struct format_names *n)
{
	char buf[ESC_MAX * PATH_MAX + 1];
	size_t room = 0, len = strlen(n->cgroup);
	int used;

	put_time(out, n->wall_ns);
	used = fprintf(out, "%u similar attempts suppressed (uid %u, cgroup ",
		       e->suppressed, e->uid);
	/* Room for the path and ")". */
	if (used > 0 && (size_t)used + 2 < FORMAT_COLUMNS)
		room = FORMAT_COLUMNS - used - 1;
	if (format_text_flags & FORMAT_WIDE || !room ||
	    escaped_len(n->cgroup, 0, len, ESC_BLANK) <= room)
		format_text_string(out, n->cgroup, len, ESC_BLANK);
	else
		fputs(format_fit(n->cgroup, len, ESC_BLANK, room, buf,
				 sizeof(buf)), out);
	fputs(")\n", out);
}

/* Existing connections (NFSG_EV_EXISTING): events and 'nfsguard sockets'. */
static const char *existing_action(const struct nfsg_event *e)
{
	switch (((const struct nfsg_existing_event *)e)->action) {
	case NFSG_EXISTING_REPORTED:
		return "reported";
	case NFSG_EXISTING_DESTROYED:
		return "destroyed";
	case NFSG_EXISTING_FAILED:
		return "failed";
	}
	return "listed";
}

static const char *existing_state(__u8 state)
{
	switch (state) {
	case 1:
		return "established";
	case 2:
		return "syn-sent";
	case 8:
		return "close-wait";
	}
	return "?";
}

static bool existing_violating(const struct nfsg_event *e)
{
	return e->verdict == NFSG_VERDICT_REFUSE ||
	       e->verdict == NFSG_VERDICT_AUDIT;
}

static void existing_json(FILE *out, const struct nfsg_event *e,
			  const struct format_names *n);

static void event_text(FILE *out, const struct nfsg_event *e,
		       const struct format_names *n)
{
	char addr[INET6_ADDRSTRLEN], why[24];
	bool cgroup_event = e->kind == NFSG_EV_CGROUP_ADDED ||
			    e->kind == NFSG_EV_CGROUP_REMOVED;

	if (e->suppressed)
		text_suppressed(out, e, n);
	put_time(out, n->wall_ns);
	put_col_u(out, COL_PID, e->pid);
	put_col(out, COL_COMM, e->comm, NFSG_COMM_LEN);
	if (cgroup_event) {
		put_col(out, COL_UID, "-", 1);
		put_col(out, COL_DADDR, "-", 1);
		put_col(out, COL_DPORT, "-", 1);
		put_col(out, COL_VERDICT, cgroup_action(e->kind), 8);
		/* Why it is watched: the policy that names it. */
		put_col(out, COL_REASON, format_text_flags & FORMAT_WIDE ?
			"-" : n->policy, NFSG_NAME_LEN);
	} else {
		format_addr(e, addr, sizeof(addr));
		put_col_u(out, COL_UID, e->uid);
		put_col(out, COL_DADDR, addr, sizeof(addr));
		put_col_u(out, COL_DPORT, e->dport);
		put_col(out, COL_VERDICT, is_trace(e->kind) ?
			outcome_name(e->kind) : e->kind == NFSG_EV_EXISTING ?
			existing_action(e) : verdict_name(e->verdict), 16);
		put_col(out, COL_REASON, text_reason(e, why, sizeof(why)),
			sizeof(why));
	}
	put_col(out, COL_POLICY, n->policy, NFSG_NAME_LEN);
	if (cgroup_event)
		put_col(out, COL_NETNS, "-", 1);
	else
		put_col_u(out, COL_NETNS, e->netns);
	put_last(out, n->cgroup);
	if (is_trace(e->kind) && format_text_flags & FORMAT_WIDE)
		trace_text_tail(out, (const struct nfsg_trace_event *)e);
	/* With -w: a backstop record's socket, where it connected to. */
	if (e->kind == NFSG_EV_EGRESS && format_text_flags & FORMAT_WIDE) {
		const struct nfsg_egress_event *r = (const void *)e;

		ip_text(r->sock_family, r->sock_daddr, addr, sizeof(addr));
		fprintf(out, " (judged on the SYN; connect() went to %s port %u)",
			addr, r->sock_dport);
	}
	fputc('\n', out);
}

/*
 * A JSON line is built in memory and written once: under a flood the
 * agent formats hundreds of thousands of events a second, and printf's
 * machinery was most of its time. It starts on the stack and grows on
 * the heap, with no cap: every escaped byte of a long cgroup path fits.
 */
struct line {
	char *buf;		/* stack, or the heap once it grew */
	size_t n, cap;
	bool failed;		/* out of memory: a note replaces the line */
	char stack[2048];	/* not zeroed: that would show per event */
};

static void line_init(struct line *l)
{
	l->buf = l->stack;
	l->cap = sizeof(l->stack);
	l->n = 0;
	l->failed = false;
}

static void line_free(struct line *l)
{
	if (l->buf != l->stack)
		free(l->buf);
	l->buf = l->stack;
}

/* Room for k more bytes, or false (and the line failed): the line grown. */
static bool grow(struct line *l, size_t k)
{
	size_t cap = l->cap;
	char *grown;

	if (l->failed)
		return false;
	while (cap - l->n < k) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	grown = l->buf == l->stack ? malloc(cap) : realloc(l->buf, cap);
	if (!grown)
		goto fail;
	if (l->buf == l->stack)
		memcpy(grown, l->stack, l->n);
	l->buf = grown;
	l->cap = cap;
	return true;
fail:
	/* No room from now on: every later put comes here, and fails. */
	l->cap = l->n;
	l->failed = true;
	return false;
}

/*
 * Inline, so that a literal's length and copy are known at compile time:
 * an event's line is some forty of these. A failed line has no room left.
 */
static inline void put_n(struct line *l, const char *s, size_t k)
{
	if (k > l->cap - l->n && !grow(l, k))
		return;
	memcpy(l->buf + l->n, s, k);
	l->n += k;
}

static inline void put(struct line *l, const char *s)
{
	put_n(l, s, strlen(s));
}

static void put_u64(struct line *l, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do
		tmp[--i] = '0' + v % 10;
	while ((v /= 10));
	put_n(l, tmp + i, sizeof(tmp) - i);
}

static void put_i64(struct line *l, long long v)
{
	if (v < 0) {
		put(l, "-");
		put_u64(l, -(unsigned long long)v);
	} else {
		put_u64(l, v);
	}
}

/* s (at most max bytes) as a JSON string, every byte kept readable. */
static void put_json(struct line *l, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0' };
	size_t i, start = 0;

	put(l, "\"");
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c != '"' && c != '\\' && c >= 0x20 && c < 0x7f)
			continue;
		put_n(l, s + start, i - start);
		start = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = c;
			put_n(l, esc, 2);
			esc[1] = 'u';
			continue;
		}
		/* Bytes, not UTF-8: keep the line valid JSON. */
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		put_n(l, esc, 6);
	}
	put_n(l, s + start, i - start);
	put(l, "\"");
}

/* ,"reason":"owner" where there is one (after a string's value). */
static void put_reason(struct line *l, const struct nfsg_event *e)
{
	if (format_reason(e->reason)) {
		put(l, "\",\"reason\":\"");
		put(l, format_reason(e->reason));
	}
}

/*
 * The fields of a socket's attempt, "policy" to "protocol", in one order
 * for every kind of record: a connect's (its tracing records' and a
 * backstop record's too) with its thread; an existing connection's, x,
 * with its holders, its source and its state instead.
 */
static void put_socket_fields(struct line *l, const struct nfsg_event *e,
			      const struct format_names *n,
			      const struct nfsg_existing_event *x)
{
	char addr[INET6_ADDRSTRLEN], proto[8];
	__u32 i;

	put(l, "\"policy\":");
	put_json(l, n->policy, strlen(n->policy));
	put(l, ",\"pid\":");
	put_u64(l, e->pid);
	if (x) {
		put(l, ",\"pids\":[");
		for (i = 0; i < x->n_pids && i < NFSG_SOCK_PIDS; i++) {
			if (i)
				put(l, ",");
			put_u64(l, x->pids[i]);
		}
		put(l, "],\"holders\":");
		put_u64(l, x->n_pids);
	} else {
		put(l, ",\"tid\":");
		put_u64(l, e->tid);
	}
	put(l, ",\"uid\":");
	put_u64(l, e->uid);
	put(l, ",\"gid\":");
	put_u64(l, e->gid);
	put(l, ",\"comm\":");
	put_json(l, e->comm, NFSG_COMM_LEN);
	put(l, ",\"cgroup_id\":");
	put_u64(l, e->cgroup_id);
	put(l, ",\"cgroup\":");
	put_json(l, n->cgroup, strlen(n->cgroup));
	put(l, ",\"netns\":");
	put_u64(l, e->netns);
	put(l, ",\"family\":\"");
	put(l, family_name(e->family));
	put(l, "\"");
	if (x) {
		ip_text(e->family, x->saddr, addr, sizeof(addr));
		put(l, ",\"saddr\":\"");
		put(l, addr);
		put(l, "\",\"sport\":");
		put_u64(l, x->sport);
	}
	format_addr(e, addr, sizeof(addr));
	put(l, ",\"daddr\":\"");
	put(l, addr);
	put(l, "\",\"dport\":");
	put_u64(l, e->dport);
	if (x) {
		put(l, ",\"state\":\"");
		put(l, existing_state(x->state));
		put(l, "\"");
	}
	put(l, ",\"protocol\":\"");
	put(l, format_protocol(e->protocol, proto, sizeof(proto)));
	put(l, "\"");
}

/* A backstop record: the socket's own view of where it connects. */
static void put_egress_fields(struct line *l, const struct nfsg_egress_event *r)
{
	char addr[INET6_ADDRSTRLEN];

	ip_text(r->sock_family, r->sock_daddr, addr, sizeof(addr));
	put(l, ",\"socket_daddr\":\"");
	put(l, addr);
	put(l, "\",\"socket_dport\":");
	put_u64(l, r->sock_dport);
	put(l, ",\"cookie\":");
	put_u64(l, r->cookie);
}

/* The line, always one valid JSON line, and its memory released. */
static void put_end(struct line *l, FILE *out)
{
	static const char oom[] =
		"{\"type\":\"error\",\"error\":\"out of memory: an event was not shown\"}\n";

	put(l, "\n");
	if (l->failed)
		fwrite(oom, 1, sizeof(oom) - 1, out);
	else
		fwrite(l->buf, 1, l->n, out);
	line_free(l);
}

/* Each field followed by a comma. */
static void put_trace_fields(struct line *l, const struct nfsg_trace_event *t)
{
	char num[16];

	if (t->e.kind != NFSG_EV_CLOSED) {
		put(l, "\"outcome\":\"");
		put(l, outcome_name(t->e.kind));
		put(l, "\",");
	}
	switch (t->e.kind) {
	case NFSG_EV_ESTABLISHED:
		put(l, "\"latency_us\":");
		put_u64(l, t->duration_ns / 1000);
		put(l, ",");
		break;
	case NFSG_EV_FAILED:
	case NFSG_EV_TIMEOUT:
	case NFSG_EV_RESET:
		/* Not learnt: "unknown" and null, never 0 (no error). */
		put(l, "\"error\":\"");
		put(l, t->error == NFSG_ERROR_UNKNOWN ? "unknown" :
		       t->error ? format_errno_name(t->error, num, sizeof(num)) : "");
		put(l, "\",\"errno\":");
		if (t->error == NFSG_ERROR_UNKNOWN)
			put(l, "null");
		else
			put_i64(l, t->error);
		put(l, ",\"elapsed_us\":");
		put_u64(l, t->duration_ns / 1000);
		put(l, ",");
		break;
	case NFSG_EV_CLOSED:
		put(l, "\"lifetime_us\":");
		put_u64(l, t->duration_ns / 1000);
		put(l, ",\"bytes_sent\":");
		put_u64(l, t->bytes_sent);
		put(l, ",\"bytes_received\":");
		put_u64(l, t->bytes_received);
		put(l, ",");
		break;
	}
	put(l, "\"cookie\":");
	put_u64(l, t->cookie);
	put(l, ",");
}

static void event_json(FILE *out, const struct nfsg_event *e,
		       const struct format_names *n)
{
	char when[48];
	struct line l;

	if (e->kind == NFSG_EV_EXISTING) {
		existing_json(out, e, n);
		return;
	}
	line_init(&l);
	format_rfc3339(n->wall_ns, when, sizeof(when));
	put(&l, "{\"time\":\"");
	put(&l, when);
	if (e->kind == NFSG_EV_CGROUP_ADDED || e->kind == NFSG_EV_CGROUP_REMOVED) {
		put(&l, "\",\"type\":\"cgroup\",\"action\":\"");
		put(&l, cgroup_action(e->kind));
		put(&l, "\",\"policy\":");
		put_json(&l, n->policy, strlen(n->policy));
		put(&l, ",\"cgroup_id\":");
		put_u64(&l, e->cgroup_id);
		put(&l, ",\"cgroup\":");
		put_json(&l, n->cgroup, strlen(n->cgroup));
		put(&l, ",\"pid\":");
		put_u64(&l, e->pid);
		put(&l, ",\"comm\":");
		put_json(&l, e->comm, NFSG_COMM_LEN);
		put(&l, "}");
		put_end(&l, out);
		return;
	}
	if (e->suppressed) {
		put(&l, "\",\"type\":\"suppressed\",\"count\":");
		put_u64(&l, e->suppressed);
		put(&l, ",\"uid\":");
		put_u64(&l, e->uid);
		put(&l, ",\"cgroup_id\":");
		put_u64(&l, e->cgroup_id);
		put(&l, ",\"cgroup\":");
		put_json(&l, n->cgroup, strlen(n->cgroup));
		put(&l, "}\n{\"time\":\"");
		put(&l, when);
	}
	put(&l, "\",\"type\":\"");
	put(&l, e->kind == NFSG_EV_CLOSED ? "close" :
		e->kind == NFSG_EV_EGRESS ? "egress" : "connect");
	put(&l, "\",\"verdict\":\"");
	put(&l, verdict_name(e->verdict));
	put_reason(&l, e);
	/* Governed as a local port: the TLS relay of an EFS mount. */
	if (e->local)
		put(&l, "\",\"port_kind\":\"efs-tls-relay");
	put(&l, "\",");
	if (is_trace(e->kind))
		put_trace_fields(&l, (const struct nfsg_trace_event *)e);
	put_socket_fields(&l, e, n, NULL);
	if (e->kind == NFSG_EV_EGRESS)
		put_egress_fields(&l, (const struct nfsg_egress_event *)e);
	put(&l, "}");
	put_end(&l, out);
}

void format_json_string(FILE *out, const char *s, size_t max)
{
	struct line l;

	line_init(&l);
	put_json(&l, s, max);
	/* Part of a larger document: keep it valid even then. */
	if (l.failed)
		fputs("\"?\"", out);
	else
		fwrite(l.buf, 1, l.n, out);
	line_free(&l);
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
	put_time(out, wall_ns);
	fprintf(out, "%llu events dropped: the ring buffer was full\n",
		(unsigned long long)count);
}

/* One JSON line: "type":"existing" for an event the agent reports or
 * acts on, "socket" for a socket only listed. */
static void existing_json(FILE *out, const struct nfsg_event *e,
			  const struct format_names *n)
{
	const struct nfsg_existing_event *x = (const void *)e;
	char when[48], err[24];
	struct line l;

	line_init(&l);
	format_rfc3339(n->wall_ns, when, sizeof(when));
	put(&l, "{\"time\":\"");
	put(&l, when);
	put(&l, x->action == NFSG_EXISTING_LISTED ? "\",\"type\":\"socket"
						  : "\",\"type\":\"existing");
	put(&l, "\",\"verdict\":\"");
	put(&l, existing_violating(e) ? "violating" : "allowed");
	put(&l, "\",\"decision\":\"");
	put(&l, verdict_name(e->verdict));
	put_reason(&l, e);
	put(&l, "\",\"action\":\"");
	put(&l, existing_action(e));
	put(&l, "\",");
	if (x->action == NFSG_EXISTING_FAILED) {
		put(&l, "\"error\":\"");
		put(&l, format_errno_name(-x->error, err, sizeof(err)));
		put(&l, "\",");
	}
	put_socket_fields(&l, e, n, x);
	put(&l, ",\"ino\":");
	put_u64(&l, x->ino);
	put(&l, ",\"cookie\":");
	put_u64(&l, x->cookie);
	put(&l, "}");
	put_end(&l, out);
}

void format_socket_header(FILE *out)
{
	fprintf(out, "%-6s %-7s %-12s %-11s %-26s %s\n", "UID", "PID", "COMM",
		"STATE", "DESTINATION", "VERDICT");
	fputs("    POLICY ACTION NETNS SOURCE CGROUP\n", out);
}

/*
 * Two rows of at most 80 columns: who holds it and where it goes, then
 * the policy, what was done, the namespace, the source and the cgroup
 * (shortened in the middle to what is left). Every user-controlled byte
 * escaped.
 */
void format_socket_text(FILE *out, const struct nfsg_event *e,
			const struct format_names *n)
{
	const struct nfsg_existing_event *x = (const void *)e;
	char addr[INET6_ADDRSTRLEN], dest[INET6_ADDRSTRLEN + 10];
	char comm[ESC_MAX * NFSG_COMM_LEN + 1], pol[ESC_MAX * NFSG_NAME_LEN + 1];
	char cg[ESC_MAX * PATH_MAX + 1], head[256], pid[16];
	int used;

	format_addr(e, addr, sizeof(addr));
	snprintf(dest, sizeof(dest), e->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 addr, e->dport);
	snprintf(pid, sizeof(pid), "%u%s", e->pid, x->n_pids > 1 ? "+" : "");
	fprintf(out, "%-6u %-7s %s %-11s %s %s\n", e->uid, e->pid ? pid : "-",
		format_fit(e->comm[0] ? e->comm : "-", NFSG_COMM_LEN, ESC_BLANK,
			   12, comm, sizeof(comm)),
		existing_state(x->state),
		format_fit(dest, sizeof(dest), ESC_BLANK, 26, cg, sizeof(cg)),
		existing_violating(e) ? "violating" : "allowed");
	ip_text(e->family, x->saddr, addr, sizeof(addr));
	used = snprintf(head, sizeof(head), "    %s %s %u %s:%u ",
			format_fit(n->policy, strlen(n->policy), ESC_BLANK,
				   12, pol, sizeof(pol)),
			existing_action(e), e->netns, addr, x->sport);
	/* Trailing padding of a fitted policy name is not wanted here. */
	fputs(head, out);
	if (used < FORMAT_COLUMNS - 1) {
		format_fit(n->cgroup, strlen(n->cgroup), ESC_BLANK,
			   FORMAT_COLUMNS - used, cg, sizeof(cg));
		fwrite(cg, 1, strcspn(cg, " "), out);
	}
	fputc('\n', out);
}
