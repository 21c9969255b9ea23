// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nullprog.bpf.c - cgroup connect4/connect6 programs that allow everything
 * and do nothing else: the floor that any program on these hooks pays.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
