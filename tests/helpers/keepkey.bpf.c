// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * For kernel-matrix guests only (tools/kernels/guest.sh): an empty
 * cgroup_skb/egress program on a cgroup of its own, which keeps the
 * kernel's static key of the egress hook on for the whole suite. Plain
 * UAPI, no CO-RE.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup_skb/egress")
int keep_egress(struct __sk_buff *skb)
{
	return 1;	/* pass */
}
