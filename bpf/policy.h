/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * policy.h - find a socket's policy and test it, in one generation's maps.
 * Every lookup is a hash or array lookup; the ancestor walk is bounded.
 */
#ifndef NFSGUARD_BPF_POLICY_H
#define NFSGUARD_BPF_POLICY_H

#define NFSG_DEFAULT_POLICY 0

/* The upgrade test builds a variant that also governs this port. */
#ifdef NFSG_EXTRA_PORT
#define extra_port(port) ((port) == NFSG_EXTRA_PORT)
#else
#define extra_port(port) false
#endif

static __always_inline __u32 active_gen(void)
{
	__u32 zero = 0;
	struct nfsg_gen *g = bpf_map_lookup_elem(&nfsg_gen, &zero);

	/* One read: every lookup after it uses this generation. */
	return g ? *(volatile __u32 *)&g->active & (NFSG_GENERATIONS - 1) : 0;
}

static __always_inline bool port_filtered(__u8 govern, __u16 port)
{
	__u32 zero = 0;
	struct nfsg_portset *ps = bpf_map_lookup_elem(&nfsg_ports, &zero);
	__u64 word;

	if (extra_port(port))
		return true;
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

/* cg's ancestor at level (its own level or above), or NULL. */
static __always_inline const struct cgroup *
cgroup_ancestor(const struct cgroup *cg, __u32 level)
{
	const struct cgroup *anc = NULL;
	__u64 slot;

	/* ancestors[level] is a flexible array: read the slot by address. */
	slot = (__u64)cg + bpf_core_field_offset(struct cgroup, ancestors) +
	       level * sizeof(anc);
	if (bpf_probe_read_kernel(&anc, sizeof(anc), (void *)slot) || !anc)
		return NULL;
	return bpf_rdonly_cast(anc, bpf_core_type_id_kernel(struct cgroup));
}

static __always_inline __u64 cgroup_ancestor_id(const struct cgroup *cg,
						__u32 level)
{
	const struct cgroup *anc = cgroup_ancestor(cg, level);

	return anc ? anc->kn->id : 0;
}

/* cg's parent cgroup: the cgroup its self css's parent is the self of. */
static __always_inline const struct cgroup *
cgroup_parent(const struct cgroup *cg)
{
	__u64 css = (__u64)cg->self.parent;

	if (!css)
		return NULL;
	return bpf_rdonly_cast((void *)(css - bpf_core_field_offset(struct cgroup,
								    self)),
			       bpf_core_type_id_kernel(struct cgroup));
}

/*
 * The policy index for a socket of cgroup cg: the policy named for cg or
 * its nearest ancestor, else the default. Policies exist only down to
 * NFSG_MAX_DEPTH, so a deeper cgroup starts its walk there.
 */
static __always_inline __u32 policy_index(const struct cgroup *cg, __u32 gen)
{
	void *cgroups = bpf_map_lookup_elem(&nfsg_cgroups, &gen);
	__u32 level, i, *idx;
	__u64 id;
	int l;

	if (!cgroups || !cg)
		return NFSG_DEFAULT_POLICY;
	level = cg->level;
	if (level > NFSG_MAX_DEPTH) {
		/* Rare: no policy lives down here, start at the deepest one
		 * that may. */
		cg = cgroup_ancestor(cg, NFSG_MAX_DEPTH);
		level = NFSG_MAX_DEPTH;
	}
	/* Up through the parents: plain loads, no helper call a level. */
	for (i = 0; i < NFSG_MAX_DEPTH && cg; i++) {
		l = (int)level - (int)i;
		if (l < 1)
			break;		/* the root: the default's */
		id = cg->kn->id;
		idx = bpf_map_lookup_elem(cgroups, &id);
		if (idx)
			return *idx;
		cg = cgroup_parent(cg);
	}
	return NFSG_DEFAULT_POLICY;
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

/* Is daddr (in the ctx) in the policy's allow-list? */
static __always_inline bool dest_allowed(const struct bpf_sock_addr *ctx,
					 __u16 family, __u32 gen, __u32 idx)
{
	void *dests = bpf_map_lookup_elem(&nfsg_dests, &gen);
	struct nfsg_dest_key key = {
		.prefixlen = 32 + 128,
		.policy = bpf_htonl(idx),
	};
	if (!dests)
		return false;
	mapped_daddr(ctx, family, (__u32 *)key.addr);
	return bpf_map_lookup_elem(dests, &key);
}

#endif
