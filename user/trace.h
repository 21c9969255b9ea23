/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Tracing: the options (filters and rate limit) as the kernel side takes
 * them, and the --interval summary, one row per destination (address,
 * port and network namespace).
 */
#ifndef NFSGUARD_TRACE_H
#define NFSGUARD_TRACE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "guard.h"
#include "policy.h"

/* Defaults of the event rate limit, per cgroup and uid. */
#define TRACE_DEFAULT_RATE 100	/* events per second */
#define TRACE_DEFAULT_BURST 100

struct trace_filters {
	bool uid_on, pid_on, port_on;
	__u32 uid, pid;
	__u16 port;
	char comm[NFSG_COMM_LEN];	/* "" for any */
	const char *cgroup;		/* path, NULL for any */
	struct policy_cidr daddr;	/* with daddr_on */
	bool daddr_on;
};

/* --interval: attempts and outcomes per destination (in its network
 * namespace), with latencies. */
struct trace_dest;
struct trace_summary {
	struct trace_dest *d;
	size_t n, cap;
};

void trace_summary_add(struct trace_summary *s, const struct nfsg_event *e,
		       __u64 latency_ns);
/* Print the rows (text or JSON lines) and start over. */
void trace_summary_flush(struct trace_summary *s, FILE *out, bool json,
			 __u64 wall_ns);
void trace_summary_free(struct trace_summary *s);

#endif
