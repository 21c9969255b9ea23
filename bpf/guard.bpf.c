// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * guard.bpf.c - refuse unprivileged sockets to governed ports at connect time.
 *
 * The semantics are written down in include/guard.h; this file implements
 * them for cgroup/connect4 and cgroup/connect6 with one decision function.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "consts.h"
#include "guard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Wake the event consumer only when the data pending in the ring buffer
 * crosses this many bytes; below it the agent finds the events on its next
 * timed poll (at most 100 ms later). This keeps the cost of a wakeup off
 * the refusal path, even in a flood. 0 wakes on every event.
 */
const volatile __u64 wakeup_bytes = 0;

/* What one record takes in the ring buffer: its 8-byte header and body. */
#define EVENT_RINGBUF_BYTES (8 + ((sizeof(struct nfsg_event) + 7) & ~7))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfsg_portset);
} nfsg_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NFSG_MAX_PRIV_UIDS);
	__type(key, __u32);
	__type(value, __u8);
} nfsg_priv_uids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFSG_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nfsg_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* resized by the agent before load */
} nfsg_events SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&nfsg_counters, &slot);

	/* Atomic even per CPU: a preempting task may bump the same slot. */
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline bool port_governed(__u16 port)
{
	__u32 zero = 0;
	struct nfsg_portset *ps = bpf_map_lookup_elem(&nfsg_ports, &zero);

	if (!ps)
		return false;
	return ps->bits[port / 64] & (1ULL << (port % 64));
}

static __always_inline bool kernel_socket(const struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD(sk, sk_kern_sock);
}

/*
 * An MPTCP socket connects through a subflow: a kernel TCP socket the MPTCP
 * stack creates on its behalf. Judge the subflow as the MPTCP socket that
 * owns it; any other kernel socket is the kernel's own.
 */
static __always_inline const struct sock *
mptcp_owner(const struct sock *sk)
{
	const struct tcp_sock *tp;
	const struct mptcp_subflow_context *sf;

	/* Only TCP sockets get here: the caller checked type and protocol. */
	tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
	if (!bpf_core_field_exists(tp->is_mptcp) || !tp->is_mptcp)
		return NULL;
	sf = bpf_rdonly_cast(tp->inet_conn.icsk_ulp_data,
			     bpf_core_type_id_kernel(struct mptcp_subflow_context));
	return sf->conn;
}

/* The cgroup the socket was created in: the one whose programs ran. */
static __always_inline __u64 socket_cgroup_id(const struct sock *sk)
{
	return sk->sk_cgrp_data.cgroup->kn->id;
}

static __always_inline __u32 socket_gid(const struct sock *sk)
{
	/* Untrusted loads: a NULL sk_socket or file reads as 0. */
	return sk->sk_socket->file->f_cred->fsgid.val;
}

static __always_inline void report(const struct bpf_sock_addr *ctx,
				   const struct sock *sk, __u16 family,
				   __u16 port, __u16 protocol, __u32 uid,
				   __u8 verdict)
{
	struct nfsg_event *e;
	__u64 id, flags = 0;

	e = bpf_ringbuf_reserve(&nfsg_events, sizeof(*e), 0);
	if (!e) {
		count(NFSG_CTR_EVENTS_DROPPED);
		return;
	}

	id = bpf_get_current_pid_tgid();
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = socket_cgroup_id(sk);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = uid;
	e->gid = socket_gid(sk);
	e->family = family;
	e->dport = port;
	e->protocol = protocol;
	e->verdict = verdict;
	e->__pad = 0;
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		__builtin_memcpy(e->daddr, &ctx->user_ip4, 4);
	} else {
		/* user_ip6 allows 4-byte loads only: copy word by word. */
		__u32 *a = (__u32 *)e->daddr;

		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	if (wakeup_bytes) {
		/* Pending data, this record included: wake on the crossing. */
		__u64 avail = bpf_ringbuf_query(&nfsg_events, BPF_RB_AVAIL_DATA);

		flags = avail >= wakeup_bytes &&
				avail < wakeup_bytes + EVENT_RINGBUF_BYTES ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
}

static __always_inline int decide(struct bpf_sock_addr *ctx, __u16 family)
{
	const struct sock *sk, *owner;
	__u32 uid, protocol = ctx->protocol;
	__u16 port;

	if (ctx->user_family != family || ctx->type != SOCK_STREAM ||
	    (protocol != NFSG_PROTO_TCP && protocol != NFSG_PROTO_MPTCP))
		goto pass;
	/* user_port holds the port in network order in its low 16 bits. */
	port = bpf_ntohs((__u16)ctx->user_port);
	if (!port_governed(port))
		goto pass;

	sk = bpf_rdonly_cast(ctx->sk, bpf_core_type_id_kernel(struct sock));
	if (kernel_socket(sk)) {
		owner = protocol == NFSG_PROTO_TCP ? mptcp_owner(sk) : NULL;
		if (!owner || kernel_socket(owner))
			goto allow;
		/* Judge, and report, the subflow as its MPTCP socket. */
		sk = owner;
		protocol = NFSG_PROTO_MPTCP;
	}
	uid = sk->sk_uid.val;
	if (bpf_map_lookup_elem(&nfsg_priv_uids, &uid))
		goto allow;

	count(NFSG_CTR_REFUSED);
	report(ctx, sk, family, port, protocol, uid, NFSG_VERDICT_REFUSE);
	return SK_VERDICT_REFUSE;
allow:
	count(NFSG_CTR_ALLOWED);
	return SK_VERDICT_PASS;
pass:
	count(NFSG_CTR_PASSED);
	return SK_VERDICT_PASS;
}

SEC("cgroup/connect4")
int nfsg_connect4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET);
}

SEC("cgroup/connect6")
int nfsg_connect6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6);
}
