/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The enforcement programs' lifecycle: open, configure, load, fill the
 * policy maps, attach to one cgroup with bpf_links, and tear down.
 */
#ifndef NFSGUARD_GUARD_PROG_H
#define NFSGUARD_GUARD_PROG_H

#include <linux/types.h>
#include "guard.h"
#include "policy.h"

struct guard_bpf;
struct bpf_link;

struct guard {
	struct guard_bpf *skel;
	struct bpf_link *link4;
	struct bpf_link *link6;
};

struct guard_opts {
	__u32 ringbuf_bytes;	/* power of two, at least one page */
	__u64 wakeup_bytes;	/* see wakeup_bytes in bpf/guard.bpf.c */
};

/* Open and load the programs. On failure nothing is left loaded. */
int guard_load(struct guard *g, const struct guard_opts *o);
/* Write the policy into the maps the programs read. */
int guard_apply_policy(struct guard *g, const struct policy *p);
/* Attach connect4 and connect6 to the cgroup; both or neither. */
int guard_attach(struct guard *g, int cgroup_fd);
/* Sum the per-CPU counters into out[NFSG_CTR_MAX]. */
int guard_read_counters(const struct guard *g, __u64 *out);
/* The events ring buffer's map fd. */
int guard_events_fd(const struct guard *g);
/* Detach and unload; accepts a guard that is partly set up or zeroed. */
void guard_destroy(struct guard *g);

#endif
