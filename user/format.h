/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Event output: aligned text for people, JSON lines for machines.
 * The JSON field names are a stable interface; see README.md.
 */
#ifndef NFSGUARD_FORMAT_H
#define NFSGUARD_FORMAT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "escape.h"
#include "guard.h"

enum format_kind {
	FORMAT_TEXT,
	FORMAT_JSON,
};

/*
 * Text rows keep to FORMAT_COLUMNS, as bcc's tools do: fixed columns,
 * and a value too long for its column (a comm, an IPv6 address, the
 * cgroup path) shortened in the middle, around FORMAT_MARK, after it was
 * escaped. FORMAT_WIDE (-w) shows every value whole, the POLICY and
 * NETNS columns and a tracing record's details; FORMAT_TIMESTAMP (-T) adds DATE and
 * TIME columns in front. Set once, from the command line.
 */
#define FORMAT_COLUMNS 80
#define FORMAT_MARK '~'
#define FORMAT_WIDE 1u
#define FORMAT_TIMESTAMP 2u
extern unsigned format_text_flags;

/* The column header of the text format (nothing for JSON). */
void format_header(FILE *out, enum format_kind kind);

/* What an event refers to, resolved by the agent. */
struct format_names {
	__u64 wall_ns;		/* the event's time, CLOCK_REALTIME */
	const char *cgroup;	/* path of e->cgroup_id, "?" if unknown */
	const char *policy;	/* name of the deciding policy, "?" if unknown */
};

/*
 * One event as one line; a tracing record (kind NFSG_EV_ESTABLISHED and
 * after) must be a whole struct nfsg_trace_event. An event that carries a
 * count of suppressed ones is preceded by a line saying so.
 */
void format_event(FILE *out, enum format_kind kind,
		  const struct nfsg_event *e, const struct format_names *n);
/* 'nfsguard sockets' in text: a struct nfsg_existing_event in two rows
 * of at most 80 columns, under format_socket_header's two. */
void format_socket_header(FILE *out);
void format_socket_text(FILE *out, const struct nfsg_event *e,
			const struct format_names *n);
/* "N events dropped: the ring buffer was full". */
void format_dropped(FILE *out, enum format_kind kind, __u64 count,
		    __u64 wall_ns);

/* Address of the event as text ("?" for an unknown family). */
void format_addr(const struct nfsg_event *e, char *buf, size_t len);
/* Why an attempt was refused ("owner", "destination"), or NULL. */
const char *format_reason(__u8 reason);
/* An errno's name (ECONNREFUSED), or its number in buf. */
const char *format_errno_name(int err, char *buf, size_t len);
/* "tcp", "udp", "mptcp" or the number. */
const char *format_protocol(__u16 protocol, char *buf, size_t len);
/* RFC 3339 UTC with microseconds: 2026-11-26T13:40:01.123456Z */
void format_rfc3339(__u64 wall_ns, char *buf, size_t len);
/*
 * s (at most max bytes, up to a NUL) as a JSON string, quotes included:
 * '"' and '\\' escaped, and every byte below 0x20, 0x7f and every byte of
 * 0x80 and above as \u00XX, the byte's value. The line stays valid JSON
 * and UTF-8 whatever s holds; a reader gets each byte back as one code
 * point below 256.
 */
void format_json_string(FILE *out, const char *s, size_t max);

/* s (at most max bytes, up to a NUL) escaped onto out (escape.h), uncut. */
void format_text_string(FILE *out, const char *s, size_t max, unsigned flags);
/*
 * The same into buf: at most len - 1 bytes and a NUL, never cutting an
 * escape; if it does not all fit, it ends with "...". Returns buf.
 */
const char *format_escape(const char *s, size_t max, unsigned flags,
			  char *buf, size_t len);
/*
 * s escaped into exactly width columns (at most len - 1): padded with
 * blanks, or, if longer, its head and tail around FORMAT_MARK, never
 * cutting an escape. Returns buf.
 */
const char *format_fit(const char *s, size_t max, unsigned flags,
		       size_t width, char *buf, size_t len);
/* Local date and time, "2026-11-26 13:40:01". */
void format_local_time(__u64 wall_ns, char *buf, size_t len);

#endif
