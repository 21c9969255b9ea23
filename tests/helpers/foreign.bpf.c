// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Another agent's program, for the coexistence tests: it refuses every
 * IPv4 connect to port 4049, whoever makes it. Plain UAPI, no CO-RE.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup/connect4")
int foreign_connect4(struct bpf_sock_addr *ctx)
{
	return bpf_ntohs((__u16)ctx->user_port) == 4049 ? 0 : 1;
}
