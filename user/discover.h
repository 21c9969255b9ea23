/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Find running agents and their kernel objects from outside: a process
 * that holds a bpf_link to a program named nfsg_connect4 is an agent.
 */
#ifndef NFSGUARD_DISCOVER_H
#define NFSGUARD_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#define DISCOVER_MAX_LINKS 16
#define DISCOVER_MAX_MAPS 64

struct agent_link {
	__u32 link_id, prog_id;
	char prog_name[16];
	__u64 cgroup_id;	/* cgroup links; 0 for tracepoints */
	char tp_name[32];	/* raw tracepoint links */
};

struct agent {
	pid_t pid;
	__u32 connect4_prog;	/* its nfsg_connect4 program */
	__u64 cgroup_id;	/* where that program is attached */
	struct agent_link links[DISCOVER_MAX_LINKS];
	size_t n_links;
	__u32 map_ids[DISCOVER_MAX_MAPS];	/* maps it holds fds of */
	size_t n_maps;
};

/* Every running agent; *out is malloc'd. Returns 0 or -errno. */
int discover_agents(struct agent **out, size_t *n);

/* The maps an agent's programs use, as fds (-1 where absent). */
struct agent_maps {
	int counters, policies, cgroups, paths, dests, pol_ctrs, gen, meta;
};

int discover_maps(const struct agent *a, struct agent_maps *m);
void discover_maps_close(struct agent_maps *m);
/* The totals: the per-CPU counters summed, plus nfsg_meta's bases. */
int counters_total(int counters_fd, int meta_fd, __u64 *out);
/* The active generation, read from the agent's nfsg_gen. */
int discover_active_gen(const struct agent_maps *m, __u32 *gen);
/* Does map fd have exactly these key and value sizes? */
bool map_sizes_are(int fd, __u32 key_size, __u32 value_size);
/* The sum over CPUs of slot key of a per-CPU array. */
int map_percpu_sum(int fd, __u32 key, __u64 *sum);
/* The fd of generation gen's inner map of outer, or -errno. */
int discover_inner(int outer, __u32 gen);

#endif
