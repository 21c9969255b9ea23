/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * trace.h - follow allowed, governed TCP connects to their outcome and
 * their close, with BTF tracepoints correlated by socket cookie, and the
 * trace filters. Compiled into the guard object so that it shares its
 * maps; the agent loads these programs only when tracing is asked for.
 */
#ifndef NFSGUARD_BPF_TRACE_H
#define NFSGUARD_BPF_TRACE_H

const volatile bool trace_enabled = false;
/* Where a connect's own error is learnt: enum nfsg_call_errors. */
const volatile __u8 trace_call_errors = NFSG_CALL_ERRORS_NONE;

/* Trace filters; a bit of filter_on (NFSG_FILTER_*) per filter. */
const volatile __u32 filter_on = 0;
const volatile __u32 filter_uid = 0;
const volatile __u32 filter_pid = 0;
const volatile char filter_comm[NFSG_COMM_LEN] = {};
const volatile __u64 filter_cgroup_id = 0;
const volatile __u32 filter_cgroup_level = 0;
const volatile __u16 filter_port = 0;
/* v4 as v4-mapped; words in network order, as the address's bytes. */
const volatile __u32 filter_daddr[4] = {};
const volatile __u32 filter_prefixlen = 0;	/* over the 128 bits */

/* A connect being followed: the record to send, and what was seen. */
struct nfsg_conn {
	struct nfsg_event e;
	__u64 start_ns;
	__u64 established_ns;
	__u64 bytes_sent;	/* payload counts as of the last state change: */
	__u64 bytes_received;	/* an abortive close zeroes the socket's own */
	__s32 error;		/* the last error the socket reported */
	__u8 reset;		/* the peer sent a reset */
	__u8 __pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* socket cookie */
	__type(value, struct nfsg_conn);
} nfsg_conns SEC(".maps");

static __always_inline bool daddr_matches(const __u32 *a)
{
	__u32 want, mask, bits;
	int i;

	for (i = 0; i < 4; i++) {
		bits = filter_prefixlen > (__u32)i * 32 ?
			       filter_prefixlen - i * 32 : 0;
		if (!bits)
			break;
		mask = bits >= 32 ? 0xffffffff : ~(0xffffffffU >> bits);
		/* A volatile read: never the initializer the compiler knows. */
		want = filter_daddr[i];
		if ((bpf_ntohl(a[i]) ^ bpf_ntohl(want)) & mask)
			return false;
	}
	return true;
}

/*
 * Does this attempt pass the trace filters? All of them must match.
 * daddr: 16 bytes, v4-mapped for IPv4; cgid: the socket's cgroup.
 */
static __always_inline bool filters_match(const __u32 *daddr, __u16 port,
					  __u32 uid, __u64 cgid,
					  const struct sock *sk, int how)
{
	char comm[NFSG_COMM_LEN];
	const struct cgroup *cg;
	int i;

	if (!filter_on)
		return true;
	if ((filter_on & NFSG_FILTER_UID) && uid != filter_uid)
		return false;
	if ((filter_on & NFSG_FILTER_PID) &&
	    (bpf_get_current_pid_tgid() >> 32) != filter_pid)
		return false;
	if ((filter_on & NFSG_FILTER_PORT) && port != filter_port)
		return false;
	if ((filter_on & NFSG_FILTER_DADDR) && !daddr_matches(daddr))
		return false;
	if (filter_on & NFSG_FILTER_COMM) {
		bpf_get_current_comm(comm, sizeof(comm));
		for (i = 0; i < NFSG_COMM_LEN; i++) {
			if (comm[i] != filter_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	if (filter_on & NFSG_FILTER_CGROUP) {
		/* In the subtree: its ancestor at the filter's level is it. */
		cg = socket_cgroup(sk, how);
		if (cgid != filter_cgroup_id &&
		    (cgroup_level(cg, how) < filter_cgroup_level ||
		     cgroup_ancestor_id(cg, filter_cgroup_level, how) !=
			     filter_cgroup_id))
			return false;
	}
	return true;
}

/* Start following an allowed connect; the outcome is sent later. */
static __always_inline void trace_follow(struct bpf_sock_addr *ctx,
					 const struct nfsg_event *tmpl)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct nfsg_conn c = { .e = *tmpl };

	c.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&nfsg_conns, &cookie, &c, BPF_ANY);
}

/* Keep the larger of the counts seen so far and the socket's own. */
static __always_inline void snapshot_bytes(struct nfsg_conn *c,
					   const struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u64 sent, received;

	if (!tp)
		return;
	/* Payload only: not retransmissions, not the peer's FIN, which
	 * takes a sequence number of its own. */
	sent = tp->bytes_sent - tp->bytes_retrans;
	received = tp->bytes_received;
	if (received && (sk->sk_shutdown & RCV_SHUTDOWN))
		received--;
	if (sent > c->bytes_sent)
		c->bytes_sent = sent;
	if (received > c->bytes_received)
		c->bytes_received = received;
}

static __always_inline void trace_send(struct nfsg_conn *c, __u8 kind,
				       __u64 cookie, __u64 duration,
				       const struct sock *sk, __s32 error)
{
	struct nfsg_trace_event *t;

	t = bpf_ringbuf_reserve(&nfsg_events, sizeof(*t), 0);
	if (!t) {
		count(NFSG_CTR_EVENTS_DROPPED);
		return;
	}
	t->e = c->e;
	t->e.kind = kind;
	t->e.ts_boot_ns = bpf_ktime_get_boot_ns();
	t->cookie = cookie;
	t->duration_ns = duration;
	t->error = error;
	t->bytes_sent = 0;
	t->bytes_received = 0;
	t->__pad = 0;
	if (kind == NFSG_EV_CLOSED) {
		snapshot_bytes(c, sk);
		t->bytes_sent = c->bytes_sent;
		t->bytes_received = c->bytes_received;
	}
	event_submit(t);
}

/* The socket's pending error, else the last one it reported. */
static __always_inline __s32 socket_error(const struct sock *sk,
					  const struct nfsg_conn *c)
{
	/* A probed read: the verifier will not let one load instruction
	 * serve both a socket and a map value. */
	__s32 err = BPF_CORE_READ(sk, sk_err);

	return err ? err : c->error;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nfsg_tr_state, const struct sock *sk, int oldstate, int newstate)
{
	__u64 cookie, now;
	struct nfsg_conn *c;
	__u8 kind;
	__s32 err;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	cookie = bpf_get_socket_cookie((void *)sk);
	c = bpf_map_lookup_elem(&nfsg_conns, &cookie);
	if (!c)
		return 0;
	if (oldstate != TCP_SYN_SENT) {
		/* Leaving ESTABLISHED and on: the counts before a reset. */
		if (c->established_ns)
			snapshot_bytes(c, sk);
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (newstate == TCP_ESTABLISHED) {
		c->established_ns = now;
		trace_send(c, NFSG_EV_ESTABLISHED, cookie, now - c->start_ns, sk,
			   0);
		return 0;
	}
	if (newstate != TCP_CLOSE)
		return 0;
	err = socket_error(sk, c);
	/* No error and no reset: the connect call failed on its own way out
	 * (no local port: EADDRNOTAVAIL, after SYN_SENT), or close() aborted
	 * it. The call's return, in nfsg_tr_connect, says which; the rest is
	 * told at the socket's destruction. */
	if (!err && !c->reset)
		return 0;
	kind = c->reset ? NFSG_EV_RESET :
	       err == ETIMEDOUT ? NFSG_EV_TIMEOUT : NFSG_EV_FAILED;
	trace_send(c, kind, cookie, now - c->start_ns, sk, err);
	bpf_map_delete_elem(&nfsg_conns, &cookie);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(nfsg_tr_reset, struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct nfsg_conn *c = bpf_map_lookup_elem(&nfsg_conns, &cookie);

	if (c)
		c->reset = 1;
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(nfsg_tr_error, const struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct nfsg_conn *c = bpf_map_lookup_elem(&nfsg_conns, &cookie);

	if (c)
		c->error = sk->sk_err;
	return 0;
}

/* A connect call's return that tells an error: not success, nor a
 * connect left in progress. */
static __always_inline bool call_failed(long ret)
{
	return ret < 0 && ret != -EINPROGRESS;
}

/* A followed connect failed in the call itself, with errno err. */
static __always_inline void trace_call_failed(struct nfsg_conn *c,
					      __u64 cookie,
					      const struct sock *sk, __s32 err)
{
	trace_send(c, NFSG_EV_FAILED, cookie, bpf_ktime_get_ns() - c->start_ns,
		   sk, err);
	bpf_map_delete_elem(&nfsg_conns, &cookie);
}

/*
 * A connect that fails in the call itself, before or as it sends its SYN
 * (no route: ENETUNREACH; no local port: EADDRNOTAVAIL; another program
 * refused it), sets no socket error: the call's return is the errno the
 * client sees. Only a socket that is closed again and still followed is
 * told; a connect in progress, interrupted or done is not.
 * __inet_stream_connect is the connect of connect(2), io_uring's
 * IORING_OP_CONNECT and sendto(MSG_FASTOPEN) (is_sendmsg) alike.
 */
SEC("fexit/__inet_stream_connect")
int BPF_PROG(nfsg_tr_connect, struct socket *sock, struct sockaddr *uaddr,
	     int addr_len, int flags, int is_sendmsg, int ret)
{
	const struct sock *sk;
	struct nfsg_conn *c;
	__u64 cookie;

	if (!call_failed(ret))
		return 0;
	sk = sock->sk;
	if (!sk || sk->__sk_common.skc_state != TCP_CLOSE)
		return 0;
	cookie = bpf_get_socket_cookie((void *)sk);
	c = bpf_map_lookup_elem(&nfsg_conns, &cookie);
	if (c)
		trace_call_failed(c, cookie, sk, -ret);
	return 0;
}

/* The error of a followed connect that never got an outcome: the socket's,
 * else none (closed by its owner first) where nfsg_tr_connect saw the
 * call's return, else unknown: the call may have failed in itself. */
static __always_inline __s32 unfinished_error(const struct sock *sk,
					      const struct nfsg_conn *c)
{
	__s32 err = socket_error(sk, c);

	if (err || trace_call_errors == NFSG_CALL_ERRORS_FEXIT)
		return err;
	return NFSG_ERROR_UNKNOWN;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(nfsg_tr_destroy, struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct nfsg_conn *c = bpf_map_lookup_elem(&nfsg_conns, &cookie);
	__u64 now = bpf_ktime_get_ns();

	if (!c)
		return 0;
	if (c->established_ns)
		trace_send(c, NFSG_EV_CLOSED, cookie, now - c->established_ns,
			   sk, 0);
	else	/* no outcome: a local failure, or an abort by close() */
		trace_send(c, NFSG_EV_FAILED, cookie, now - c->start_ns, sk,
			   unfinished_error(sk, c));
	bpf_map_delete_elem(&nfsg_conns, &cookie);
	return 0;
}

#endif
