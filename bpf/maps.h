/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * maps.h - every map of the guard programs. The layout of keys and values
 * is in include/guard.h; which generation is active is in nfsg_gen.
 */
#ifndef NFSGUARD_BPF_MAPS_H
#define NFSGUARD_BPF_MAPS_H

/* The generation of the policy maps decisions use; the agent flips it with
 * one store through a mapping (include/guard.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfsg_gen);
} nfsg_gen SEC(".maps");

/* Bookkeeping of the agents (user space only). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfsg_meta);
} nfsg_meta SEC(".maps");

/* Any policy's governed ports: the filter in front of every decision. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfsg_portset);
} nfsg_ports SEC(".maps");

/*
 * Inner map templates; the agent creates the real ones per generation.
 * Struct keys and values are given by size: clang emits the structs of
 * nested map definitions only as forward declarations in BTF.
 */
/*
 * Hashes are not preallocated: a preallocated one's elements sit in one
 * vmalloc'ed area of 4 KiB pages, so a lookup in a table of 100,000
 * cgroups pays TLB misses that a kmalloc'ed element does not (bench/,
 * "policy size"). The agent fills them; of the programs, only the mkdir
 * and rmdir watchers insert and delete, and an insert they cannot make
 * for want of memory is made by the agent at the cgroup's event
 * (guard.bpf.c, cgroup_added).
 */
struct nfsg_cgroup_map {		/* cgroup id -> policy index */
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
};

struct nfsg_policy_map {		/* policy index -> policy */
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct nfsg_policy));
};

struct nfsg_path_map {			/* cgroup path -> policy index */
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct nfsg_path_key));
	__uint(value_size, sizeof(__u32));
};

struct nfsg_dest_map {			/* (policy, CIDR) -> allowed */
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct nfsg_dest_key));
	__uint(value_size, sizeof(__u8));
};

#define NFSG_OUTER(name, inner)                                             \
	struct {                                                            \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                   \
		__uint(max_entries, NFSG_GENERATIONS);                      \
		__type(key, __u32);                                         \
		__array(values, struct inner);                              \
	} name SEC(".maps")

NFSG_OUTER(nfsg_cgroups, nfsg_cgroup_map);
NFSG_OUTER(nfsg_policies, nfsg_policy_map);
NFSG_OUTER(nfsg_paths, nfsg_path_map);
NFSG_OUTER(nfsg_dests, nfsg_dest_map);

/*
 * Each cgroup's policy index, kept in the cgroup itself (cgroup local
 * storage, Linux 6.2) by the connect and sendmsg hooks, so that a lookup
 * costs the same whatever the number of cgroups the policies name: an
 * NFSG_CG_CACHE() word, valid while nfsg_gen's active word is the one it
 * names (bpf/policy.h, policy_index_cached). Never pinned: each set of
 * programs starts with an empty one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} nfsg_cg_cache SEC(".maps");

/*
 * Per-policy counters, by generation and family: a plain per-CPU array,
 * so that a decision counts with an inlined lookup. Slots are
 * NFSG_PCTR_SLOT() (include/guard.h); the agent zeroes a generation's
 * slots before it makes it active.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFSG_PCTR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} nfsg_pol_ctrs SEC(".maps");

/* Totals over all policies and generations. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFSG_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nfsg_counters SEC(".maps");

/* Sockets the backstop has judged already: their SYN's retransmissions
 * are dropped (or passed, audited) without another count or event. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);	/* socket cookie */
	__type(value, __u8);	/* enum nfsg_verdict */
} nfsg_egress_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* resized by the agent before load */
} nfsg_events SEC(".maps");

#endif
