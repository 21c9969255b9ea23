/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Event filters, as 'run', 'trace' and 'events' take them: each key may be
 * given several times or as a list ("--uid 0,1000 --uid 34"); a key's
 * values add up (any of them matches) and the keys narrow each other (all
 * must match). A repeated key never replaces what came before.
 */
#ifndef NFSGUARD_FILTER_H
#define NFSGUARD_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "guard.h"
#include "policy.h"
#include "trace.h"

/* Values one key may hold. */
#define FILTER_MAX 16

enum filter_key {
	FILTER_UID,
	FILTER_PID,
	FILTER_COMM,
	FILTER_CGROUP,
	FILTER_PORT,
	FILTER_DADDR,
	FILTER_KEYS,
};

struct event_filter {
	__u32 uid[FILTER_MAX], pid[FILTER_MAX];
	__u16 port[FILTER_MAX];
	char comm[FILTER_MAX][NFSG_COMM_LEN];
	char cgroup[FILTER_MAX][NFSG_PATH_LEN];	/* "/a/b", no trailing '/' */
	struct policy_cidr daddr[FILTER_MAX];
	__u8 n[FILTER_KEYS];
};

/* "uid", "pid", ... as the command line and the control socket name them;
 * -1 for another name. */
int filter_key_of(const char *name);
const char *filter_key_name(enum filter_key k);
/*
 * Add value, one or a comma-separated list, to key k. Returns 0, or
 * -EINVAL / -E2BIG with the reason in why.
 */
int filter_add(struct event_filter *f, enum filter_key k, const char *value,
	       char *why, size_t why_len);
bool filter_empty(const struct event_filter *f);
/* Does event e (its cgroup's path cgroup) pass? Cgroup records always do. */
bool filter_match(const struct event_filter *f, const struct nfsg_event *e,
		  const char *cgroup);
/*
 * The kernel's share: every key with exactly one value goes into t, which
 * the programs apply before making an event (cgroup paths stay in
 * t->cgroup, pointing into f). Keys with more values are left to
 * filter_match.
 */
void filter_to_kernel(const struct event_filter *f, struct trace_filters *t);

#endif
