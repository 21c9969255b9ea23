// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Another agent's socket load balancer, for the backstop tests: it sends
 * IPv4 connects to port 8080 to port 2049 instead, after nfsguard's
 * connect hook has judged them. Plain UAPI, no CO-RE.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("cgroup/connect4")
int rewrite_8080(struct bpf_sock_addr *ctx)
{
	if (bpf_ntohs((__u16)ctx->user_port) == 8080)
		ctx->user_port = bpf_htons(2049);
	return 1;
}
