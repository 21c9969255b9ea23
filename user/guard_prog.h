/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The guard programs' lifecycle: open, configure, load, attach the cgroup
 * watchers and the four cgroup hooks with bpf_links, and tear down.
 */
#ifndef NFSGUARD_GUARD_PROG_H
#define NFSGUARD_GUARD_PROG_H

#include <linux/types.h>
#include "guard.h"
#include "trace.h"
#include "probe.h"

struct nfsg_guard;
struct bpf_link;

/* The cgroup hooks, in the order they are attached (the backstop last). */
enum guard_hook {
	GUARD_CONNECT4,
	GUARD_CONNECT6,
	GUARD_SENDMSG4,
	GUARD_SENDMSG6,
	GUARD_EGRESS,		/* the backstop: cgroup_skb/egress */
	GUARD_HOOKS,
};

/* The tracing programs (see bpf/trace.h). */
#define GUARD_TRACE_PROGS 5

/* The per-generation inner maps (see bpf/maps.h). */
enum guard_inner {
	GUARD_INNER_CGROUPS,
	GUARD_INNER_POLICIES,
	GUARD_INNER_PATHS,
	GUARD_INNER_DESTS,
	GUARD_INNERS,
};

/* An inner map template, as read before load (libbpf frees it then). */
struct guard_inner_def {
	__u32 type, key_size, value_size, flags, max_entries;
};

/* The iterators of existing connections: one a protocol, and the one
 * that finds the processes holding sockets. */
enum guard_iter {
	GUARD_ITER_TCP,
	GUARD_ITER_UDP,
	GUARD_ITER_FILES,	/* not a protocol's: the holders of sockets */
	GUARD_ITERS,
};

struct guard {
	struct nfsg_guard *skel;
	struct bpf_link *hooks[GUARD_HOOKS];
	struct bpf_link *mkdir, *rmdir;
	struct bpf_link *trace[GUARD_TRACE_PROGS]; /* if tracing is loaded */
	struct bpf_link *iter[GUARD_ITERS];	/* the socket iterators', once attached */
	struct bpf_program *iter_prog[GUARD_ITERS];	/* their builds loaded, or NULL */
	struct guard_inner_def inner[GUARD_INNERS];
	enum hook_build build;	/* which build of the hooks is loaded */
	__u64 word;		/* nfsg_gen's active word, as last read or
				 * written (include/guard.h) */
	__u64 *gen_map;		/* nfsg_gen's value, mapped once loaded */
};

struct guard_opts {
	__u32 ringbuf_bytes;	/* power of two, at least one page */
	__u64 wakeup_bytes;	/* see wakeup_bytes in bpf/events.h */
	__u32 rl_rate, rl_burst; /* see bpf/ratelimit.h; rate 0: no limit */
	bool trace;		/* load the tracing programs */
	const struct trace_filters *filters;	/* NULL: none */
	__u64 filter_cgroup_id;	/* with filters->cgroup: its id ... */
	__u32 filter_cgroup_level;	/* ... and depth */
	const struct kplan *plan;	/* what this kernel supports */
};

/* Open and configure the programs; maps may then be reused. */
int guard_open(struct guard *g, const struct guard_opts *o);
/* Load them. On failure nothing is left loaded (guard_destroy still due). */
int guard_load(struct guard *g);
/*
 * A fresh inner map of kind i with max_entries (0: the template's). Returns
 * its fd or -errno, after printing why.
 */
int guard_inner_create(const struct guard *g, enum guard_inner i,
		       __u32 max_entries);
/* Put fd in slot gen of the outer map of kind i. */
int guard_inner_install(const struct guard *g, enum guard_inner i, __u32 gen,
			int fd);
/* The name of inner maps of kind i ("nfsg_policies_g"). */
const char *guard_inner_name(enum guard_inner i);
/*
 * The active generation: read, or switch with one release store through
 * the mapping, which orders every map write before it. Every switch moves
 * the active word on, to gen's next; a switch to the generation that is
 * active already tells the hooks that what they cached of its cgroups is
 * stale (a change made to it in place).
 */
__u32 guard_get_gen(struct guard *g);
void guard_set_gen(struct guard *g, __u32 gen);
/* Attach the tracing programs (if loaded). */
int guard_attach_trace(struct guard *g);
/*
 * A socket iterator (existing connections): attach it once, then open
 * one walk of the network namespace the calling thread is in. Returns
 * the walk's fd (read struct nfsg_sock_record from it) or -errno.
 */
int guard_iter_open(struct guard *g, enum guard_iter which);
/* Follow cgroups as they are created and removed. */
int guard_watch_cgroups(struct guard *g);
/* The program for hook i, of the build that is loaded. */
struct bpf_program *guard_hook_prog(const struct guard *g, enum guard_hook i);
/* Hook i's name ("connect4"). */
const char *guard_hook_name(enum guard_hook i);
/* The hook a kernel program name of either build is for, or -1. */
int guard_hook_of(const char *prog_name);
/* Attach the four hooks to the cgroup; all or none. */
int guard_attach(struct guard *g, int cgroup_fd);
/*
 * Return once every BPF program run already under way has ended (an RCU
 * grace period): after a switch of programs, the old ones count no more.
 */
int guard_wait_programs(void);
/* Detach the hooks (and only them). */
void guard_detach(struct guard *g);
/* The agents' bookkeeping map (see struct nfsg_meta). */
int guard_read_meta(const struct guard *g, struct nfsg_meta *meta);
int guard_write_meta(const struct guard *g, const struct nfsg_meta *meta);
/* The totals: per-CPU counters summed, plus carried-over bases. */
int guard_read_counters(const struct guard *g, __u64 *out);
/* The events ring buffer's map fd. */
int guard_events_fd(const struct guard *g);
/* Detach and unload; accepts a guard that is partly set up or zeroed. */
void guard_destroy(struct guard *g);

#endif
