// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nullprog.bpf.c - cgroup connect4/connect6 programs that allow everything
 * and do nothing else: the floor that any program on these hooks pays;
 * nfsg_null_eg, the same on cgroup_skb/egress, where nfsguard's backstop
 * runs once per outgoing packet.
 * And nfsg_hash4, which allows everything after one hash lookup of the
 * calling task's cgroup id: the floor of a cgroup table of a given size,
 * beside nfsguard's own lookup in a table of that size.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* As nfsguard's cgroup map: cgroup id -> index; sized and flagged by the
 * loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} nfsg_hash SEC(".maps");

/* Lookups that missed their key: the loader checks that none did. */
__u64 misses;

SEC("cgroup/connect4")
int nfsg_null4(struct bpf_sock_addr *ctx)
{
	return 1;	/* allow */
}

SEC("cgroup/connect6")
int nfsg_null6(struct bpf_sock_addr *ctx)
{
	return 1;	/* allow */
}

SEC("cgroup_skb/egress")
int nfsg_null_eg(struct __sk_buff *skb)
{
	return 1;	/* pass */
}

SEC("cgroup/connect4")
int nfsg_hash4(struct bpf_sock_addr *ctx)
{
	__u64 id = bpf_get_current_cgroup_id();

	if (!bpf_map_lookup_elem(&nfsg_hash, &id))
		__sync_fetch_and_add(&misses, 1);
	return 1;	/* allow */
}
