/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * policy.h - find a socket's policy and test it, in one generation's maps.
 * Every lookup is a hash or array lookup; the ancestor walk is bounded.
 */
#ifndef NFSGUARD_BPF_POLICY_H
#define NFSGUARD_BPF_POLICY_H

#define NFSG_DEFAULT_POLICY 0

/* Set by the agent when the kernel lets the hooks keep each cgroup's
 * policy index in the cgroup (user/probe.c, "cgroup_cache"). */
const volatile bool cg_cache = false;

/* nfsg_gen's active word (include/guard.h): its generation, and the tag of
 * what the cgroup cache holds. One read: every lookup after it uses it. */
static __always_inline __u64 active_word(void)
{
	__u32 zero = 0;
	struct nfsg_gen *g = bpf_map_lookup_elem(&nfsg_gen, &zero);

	return g ? *(volatile __u64 *)&g->active : 0;
}

static __always_inline __u32 active_gen(void)
{
	return active_word() & (NFSG_GENERATIONS - 1);
}

static __always_inline bool port_filtered(__u8 govern, __u16 port)
{
	__u32 zero = 0;
	struct nfsg_portset *ps = bpf_map_lookup_elem(&nfsg_ports, &zero);
	__u64 word;

	if (!ps)
		return false;
	word = govern == NFSG_GOVERN_TCP ? ps->tcp[port / 64] : ps->udp[port / 64];
	return word & (1ULL << (port % 64));
}

static __always_inline bool in_ranges(const struct nfsg_range *r, __u8 n,
				      __u32 v)
{
	int i;

	for (i = 0; i < NFSG_MAX_RANGES; i++) {
		if (i >= n)
			break;
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	}
	return false;
}

/* Is daddr (16 bytes, v4-mapped for IPv4) a loopback address? */
static __always_inline bool loopback(const __u32 *daddr)
{
	if (!daddr[0] && !daddr[1] && daddr[2] == bpf_htonl(0xffff))
		return (bpf_ntohl(daddr[3]) >> 24) == 127;	/* 127.0.0.0/8 */
	return !daddr[0] && !daddr[1] && !daddr[2] &&
	       daddr[3] == bpf_htonl(1);			/* ::1 */
}

static __always_inline bool local_ranges(const struct nfsg_range *r, __u8 n,
					 __u32 v)
{
	int i;

	for (i = 0; i < NFSG_MAX_LOCAL_RANGES; i++) {
		if (i >= n)
			break;
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	}
	return false;
}

/* An owner's uid or gid that could not be read is never privileged. */
static __always_inline bool id_privileged(const struct nfsg_range *r, __u8 n,
					  __u32 id)
{
	return id != NFSG_ID_UNKNOWN && in_ranges(r, n, id);
}

/*
 * The policy index for a socket of cgroup cg: the policy named for cg or
 * its nearest ancestor, else the default. Policies exist only down to
 * NFSG_MAX_DEPTH, so a deeper cgroup starts its walk there. Direct reads
 * follow parent pointers (plain loads, no helper call a level); probed
 * reads take each level's id from cg's ancestors.
 */
static __always_inline __u32 policy_index(const struct cgroup *cg, __u32 gen,
					  int how)
{
	void *cgroups = bpf_map_lookup_elem(&nfsg_cgroups, &gen);
	__u32 level, i, *idx;
	__u64 id;
	int l;

	if (!cgroups || !cg)
		return NFSG_DEFAULT_POLICY;
	level = cgroup_level(cg, how);
	if (level > NFSG_MAX_DEPTH) {
		/* Rare: no policy lives down here; start at the deepest level
		 * that may hold one. */
		level = NFSG_MAX_DEPTH;
		if (direct_reads(how))
			cg = cgroup_ancestor(cg, NFSG_MAX_DEPTH, how);
	}
	for (i = 0; i < NFSG_MAX_DEPTH; i++) {
		l = (int)level - (int)i;
		if (l < 1 || !cg)
			break;		/* the root: the default's */
		if (direct_reads(how)) {
			id = cgroup_id(cg, how);
			cg = cgroup_parent(cg, how);
		} else {
			id = cgroup_ancestor_id(cg, l, how);
		}
		idx = bpf_map_lookup_elem(cgroups, &id);
		if (idx)
			return *idx;
	}
	return NFSG_DEFAULT_POLICY;
}

/*
 * A cache entry of nfsg_cg_cache: the active word it was found under, in
 * the top 53 bits, a bit that tells it from the zeroes of a new entry, and
 * the index. One 8-byte store writes it, one load reads it, so racing CPUs
 * leave one whole entry, never one's word with the other's index. A word
 * past 2^53 (never reached: 10^16 changes) matches no entry.
 */
#define NFSG_CG_IDX_BITS 10
#define NFSG_CG_CACHED (1ULL << NFSG_CG_IDX_BITS)
#define NFSG_CG_CACHE(word, idx)                                            \
	(((word) << (NFSG_CG_IDX_BITS + 1)) | NFSG_CG_CACHED | (idx))
_Static_assert(NFSG_MAX_POLICIES == 1 << NFSG_CG_IDX_BITS,
	       "a policy index fills the entry's index bits");

/*
 * policy_index(), through the cgroup cache where it can be used: in the
 * task that connects (a sock_addr hook, which the kernel runs in it) and
 * for a socket of that task's own cgroup. The task's cgroup is the only
 * one a hook may name to bpf_cgrp_storage_get() (a trusted pointer); the
 * socket's comes from the socket (bpf/socket.h) and is compared with it.
 * Any other socket, such as one made before its task moved, walks.
 * An entry tagged with another active word is looked up afresh: the agent
 * moves the word on at every change to the active generation's cgroups
 * (guard_set_gen in user/guard.c), and a new cgroup is named before any
 * task can enter it (nfsg_cg_mkdir). The walk's maps are found through
 * the word's generation, so no CPU reads them older than the word.
 */
static __always_inline __u32 policy_index_cached(const struct cgroup *cg,
						 __u64 word, int how)
{
	__u32 gen = word & (NFSG_GENERATIONS - 1), idx;
	struct task_struct *task;
	struct cgroup *mine, *trusted;
	__u64 *c, e;

	if (!cg_cache || !(how & NFSG_IN_TASK) || !direct_reads(how) || !cg)
		return policy_index(cg, gen, how);
	task = bpf_get_current_task_btf();
	mine = task->cgroups->dfl_cgrp;
	/* The copy named to the helper, hidden from clang, which would pass
	 * the equal but untrusted cg instead. */
	trusted = mine;
	barrier_var(trusted);
	if (!mine || (const void *)mine != (const void *)cg)
		return policy_index(cg, gen, how);
	c = bpf_cgrp_storage_get(&nfsg_cg_cache, trusted, 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c) {
		e = *(volatile __u64 *)c;
		if (e >> (NFSG_CG_IDX_BITS + 1) == word && (e & NFSG_CG_CACHED))
			return e & (NFSG_MAX_POLICIES - 1);
	}
	idx = policy_index(cg, gen, how);
	if (c && idx < NFSG_MAX_POLICIES)
		*(volatile __u64 *)c = NFSG_CG_CACHE(word, idx);
	return idx;
}

static __always_inline const struct nfsg_policy *policy_get(__u32 gen,
							    __u32 idx)
{
	void *policies = bpf_map_lookup_elem(&nfsg_policies, &gen);

	return policies ? bpf_map_lookup_elem(policies, &idx) : NULL;
}

/* The destination as 16 bytes, IPv4 v4-mapped (::ffff:a.b.c.d). */
static __always_inline void mapped_daddr(const struct bpf_sock_addr *ctx,
					 __u16 family, __u32 *a)
{
	if (family == AF_INET) {
		a[0] = 0;
		a[1] = 0;
		a[2] = bpf_htonl(0xffff);
		a[3] = ctx->user_ip4;
	} else {
		/* user_ip6 allows 4-byte loads only: word by word. */
		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
	}
}

/* Is daddr (16 bytes, v4-mapped for IPv4) in the policy's allow-list? */
static __always_inline bool dest_allowed(const __u32 *daddr, __u32 gen,
					 __u32 idx)
{
	void *dests = bpf_map_lookup_elem(&nfsg_dests, &gen);
	struct nfsg_dest_key key = {
		.prefixlen = 32 + 128,
		.policy = bpf_htonl(idx),
	};
	__u32 *k = (__u32 *)key.addr;

	if (!dests)
		return false;
	k[0] = daddr[0];
	k[1] = daddr[1];
	k[2] = daddr[2];
	k[3] = daddr[3];
	return bpf_map_lookup_elem(dests, &key);
}

#endif
