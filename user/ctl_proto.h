/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Requests on the control socket: one JSON object on one line, at most
 * CTL_REQUEST_MAX bytes, parsed by strict code (a client is not trusted):
 *
 *   {"cmd":"status","format":"json"}
 *   {"cmd":"reload","format":"text"}
 *   {"cmd":"events","format":"json","trace":true,"queue":1048576,
 *    "uid":[0,1000],"comm":["nfs-cat"],"cgroup":["/kubepods.slice"],
 *    "port":[2049],"pid":[42],"daddr":["10.0.0.0/8"]}
 *   {"cmd":"sockets","format":"json","destroy":false}
 *   {"cmd":"uninstall","format":"text","pin_dir":"/sys/fs/bpf/nfsguard"}
 *
 * Values are strings, unsigned numbers, true/false, or flat arrays of
 * strings and numbers; no other JSON is accepted (no nesting, no escapes
 * but \" \\ \/, no duplicate keys). Unknown keys are refused.
 */
#ifndef NFSGUARD_CTL_PROTO_H
#define NFSGUARD_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include "filter.h"
#include "format.h"

#define CTL_REQUEST_MAX 4096
/* A reader's queue: default, and the bounds a request may ask for. */
#define CTL_QUEUE_DEFAULT (4U << 20)
#define CTL_QUEUE_MIN (4U << 10)
#define CTL_QUEUE_MAX (64U << 20)

enum ctl_cmd {
	CTL_STATUS,
	CTL_RELOAD,
	CTL_EVENTS,
	CTL_SOCKETS,		/* existing connections, listed (sockets.h) */
	CTL_UNINSTALL,		/* unpin pin_dir, detach and stop (root only) */
};

#define CTL_STR_MAX 256

struct ctl_request {
	enum ctl_cmd cmd;
	enum format_kind format;
	bool trace;		/* events: tracing records too */
	bool destroy;		/* sockets: abort every violating one */
	__u32 queue;		/* events: queue bytes */
	char pin_dir[CTL_STR_MAX];	/* uninstall: the pins meant */
	struct event_filter filter;
};

/* Parse buf[0..len) (no newline). Returns 0, or -EINVAL with why. */
int ctl_parse(const char *buf, size_t len, struct ctl_request *r, char *why,
	      size_t why_len);

/*
 * The first line of an answer, as a client reads it (the same strict
 * syntax; keys it does not know are skipped, strings longer than
 * CTL_STR_MAX - 1 bytes refused):
 *
 *   {"ok":true,"type":"uninstall","pid":42,"kept":false}
 *   {"ok":false,"type":"uninstall","reason":"not_root","error":"root only",
 *    "pin_dir":"/sys/fs/bpf/nfsguard"}
 *
 * "reason" is a code for programs, "error" its words for people.
 */
struct ctl_answer {
	bool ok;
	bool kept;		/* uninstall: entries not nfsguard's stay */
	__u32 pid;		/* the agent's */
	char type[CTL_STR_MAX];
	char reason[CTL_STR_MAX];
	char error[CTL_STR_MAX];
	char pin_dir[CTL_STR_MAX];
};

/* Parse the line buf[0..len) (no newline). Returns 0, or -EINVAL: not an
 * answer (no "ok", or bad syntax). */
int ctl_parse_answer(const char *buf, size_t len, struct ctl_answer *a);

#endif
