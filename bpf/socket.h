/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * socket.h - what the decision needs to know of a socket, read through
 * BTF: its owner, whether the kernel made it, and its cgroup.
 */
#ifndef NFSGUARD_BPF_SOCKET_H
#define NFSGUARD_BPF_SOCKET_H

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline const struct sock *sock_of(struct bpf_sock *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
}

static __always_inline bool kernel_socket(const struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD(sk, sk_kern_sock);
}

/*
 * An MPTCP socket connects through a subflow: a kernel TCP socket the MPTCP
 * stack creates on its behalf. Returns the MPTCP socket that owns a
 * subflow, NULL for any other socket. Only TCP sockets may be passed.
 */
static __always_inline const struct sock *mptcp_owner(const struct sock *sk)
{
	const struct tcp_sock *tp;
	const struct mptcp_subflow_context *sf;

	tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
	if (!bpf_core_field_exists(tp->is_mptcp) || !tp->is_mptcp)
		return NULL;
	sf = bpf_rdonly_cast(tp->inet_conn.icsk_ulp_data,
			     bpf_core_type_id_kernel(struct mptcp_subflow_context));
	return sf->conn;
}

/* The cgroup the socket was created in: the one whose programs ran. */
static __always_inline const struct cgroup *socket_cgroup(const struct sock *sk)
{
	return sk->sk_cgrp_data.cgroup;
}

static __always_inline __u32 socket_uid(const struct sock *sk)
{
	return sk->sk_uid.val;
}

static __always_inline __u32 socket_gid(const struct sock *sk)
{
	/* Untrusted loads: a NULL sk_socket or file reads as 0. */
	return sk->sk_socket->file->f_cred->fsgid.val;
}

#endif
