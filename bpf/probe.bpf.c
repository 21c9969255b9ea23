// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * probe.bpf.c - one tiny program per kernel feature the agent may use.
 * user/probe.c loads each alone: whether the verifier accepts it is the
 * answer, whatever the kernel's version says. Only nfsg_pr_fexit is
 * attached, and detached at once: for it, attaching is the question.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nfsg_pr_word SEC(".maps");

/* Direct reads of the socket in a sock_addr program (Linux 6.7). */
SEC("cgroup/connect4")
int nfsg_pr_cast(struct bpf_sock_addr *ctx)
{
	const struct sock *sk;

	sk = bpf_rdonly_cast(ctx->sk, bpf_core_type_id_kernel(struct sock));
	return sk->sk_uid.val == 0xfffffffe ? 0 : 1;
}

/* Cgroup local storage (Linux 6.2), in sock_addr programs, of the
 * calling task's own cgroup (a trusted pointer, the task's BTF): the
 * hooks' per-cgroup cache of policy indexes. Created only for this probe:
 * older kernels refuse the map type. */
struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} nfsg_pr_cgstore SEC(".maps");

SEC("cgroup/connect4")
int nfsg_pr_cgcache(struct bpf_sock_addr *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 *c = bpf_cgrp_storage_get(&nfsg_pr_cgstore,
					task->cgroups->dfl_cgrp, 0,
					BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (c)
		*(volatile __u64 *)c = 1;
	return 1;
}

/* Compare-and-exchange and exchange on a map value (Linux 5.12). */
SEC("cgroup/connect4")
int nfsg_pr_atomic(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	__u64 *w = bpf_map_lookup_elem(&nfsg_pr_word, &zero);

	if (w && __sync_val_compare_and_swap(w, 0, 1) == 0)
		__sync_lock_test_and_set(w, 0);
	return 1;
}

/* Socket cookies in BTF tracepoints (Linux 5.12): tracing needs them. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nfsg_pr_cookie, const struct sock *sk)
{
	return bpf_get_socket_cookie((void *)sk) == 0;
}

/* fexit programs on the connect call (BPF trampolines, and the BTF of
 * __inet_stream_connect): a traced connect's own error. The one probe
 * that is attached too, for a moment: a kernel may load a trampoline's
 * program and still refuse to attach it. */
SEC("fexit/__inet_stream_connect")
int BPF_PROG(nfsg_pr_fexit, struct socket *sock, struct sockaddr *uaddr,
	     int addr_len, int flags, int is_sendmsg, int ret)
{
	/* The verifier takes no other return from fentry and fexit programs. */
	return 0;
}

/* The calling task's pid in cgroup_skb programs (not in 6.1, in 6.12). */
SEC("cgroup_skb/egress")
int nfsg_pr_skbpid(struct __sk_buff *skb)
{
	return bpf_get_current_pid_tgid() != 0;
}

/* The calling task's comm in cgroup_skb programs (not in 6.12). */
SEC("cgroup_skb/egress")
int nfsg_pr_skbcomm(struct __sk_buff *skb)
{
	char comm[16];

	return bpf_get_current_comm(comm, sizeof(comm)) == 0;
}

/* TCP socket iterators (Linux 5.9), with the helper that names the
 * socket's tcp_sock: nfsguard sockets lists with them. */
SEC("iter/tcp")
int nfsg_pr_itertcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	return skc && bpf_skc_to_tcp_sock(skc) ? 0 : 0;
}

/* UDP socket iterators (Linux 5.9): connected UDP sockets, listed with
 * the TCP ones where UDP is governed. */
SEC("iter/udp")
int nfsg_pr_iterudp(struct bpf_iter__udp *ctx)
{
	return ctx->udp_sk ? 0 : 0;
}

/* task_file iterators (Linux 5.8): the holders of sockets, without
 * /proc and its ptrace checks. */
SEC("iter/task_file")
int nfsg_pr_taskfile(struct bpf_iter__task_file *ctx)
{
	return ctx->file && ctx->task ? 0 : 0;
}

extern int bpf_sock_destroy(struct sock_common *sk) __ksym __weak;

/* bpf_sock_destroy() from a TCP iterator (Linux 6.5). Called without a
 * test of the weak symbol: where the kernel lacks it, libbpf leaves a
 * poisoned call that the verifier refuses, which is the answer. */
SEC("iter/tcp")
int nfsg_pr_destroy(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (skc)
		bpf_sock_destroy(skc);
	return 0;
}
