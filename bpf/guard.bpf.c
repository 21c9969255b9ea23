// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * guard.bpf.c - refuse unprivileged sockets to governed ports at connect
 * (and UDP sendmsg) time, by the policy of the socket's cgroup.
 *
 * The semantics are written down in include/guard.h; this file holds the
 * programs and their one decision function, and keeps the policy maps in
 * step with cgroups that are created and removed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "consts.h"
#include "guard.h"
#include "maps.h"
#include "socket.h"
#include "policy.h"
#include "events.h"
#include "ratelimit.h"
#include "trace.h"
#include "packet.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* What is decided: a connect, a sendmsg, or a SYN on its way out. */
struct attempt {
	const struct sock *sk;
	__u32 daddr[4];		/* v4-mapped for IPv4, network order */
	__u16 family;		/* the address's: AF_INET or AF_INET6 */
	__u16 port;		/* destination port, host order */
	__u16 protocol;		/* NFSG_PROTO_*; a subflow becomes MPTCP */
	__u8 govern;		/* NFSG_GOVERN_TCP or _UDP */
};

/* What judge() found. */
struct judgement {
	__u32 gen, idx, uid;
	__u8 flags;		/* the policy's NFSG_POLICY_* */
	__u8 verdict;		/* 0: not governed, else enum nfsg_verdict */
	__u8 reason;		/* enum nfsg_reason */
	__u8 local;		/* governed as a local port */
};

/*
 * The one decision, for every hook and kernel (include/guard.h): is this
 * attempt governed, and if so allowed, refused or audited, by which policy
 * and why. Counting and reporting are the callers'; how says only how
 * socket facts are read (bpf/socket.h).
 */
static __always_inline void judge(struct attempt *a, struct judgement *j,
				  int how)
{
	const struct nfsg_policy *pol;
	const struct sock *owner;
	bool privileged;
	__u64 word;

	j->verdict = 0;
	j->flags = 0;
	j->local = 0;
	j->reason = NFSG_REASON_NONE;
	owner = kernel_socket(a->sk, how) && a->protocol == NFSG_PROTO_TCP ?
			mptcp_owner(a->sk, how) : NULL;
	if (owner) {
		/* Judge, and report, the subflow as its MPTCP socket. */
		a->sk = owner;
		a->protocol = NFSG_PROTO_MPTCP;
	}
	/* The kernel's own sockets pass: the in-kernel NFS client's, made in
	 * a kworker. A kernel socket a user's request made (SMC's TCP socket,
	 * say) carries that user's uid, and is judged like any other. */
	j->uid = socket_uid(a->sk, how);
	if (kernel_socket(a->sk, how) && j->uid == 0)
		return;

	word = active_word();
	j->gen = word & (NFSG_GENERATIONS - 1);
	j->idx = NFSG_DEFAULT_POLICY;
	pol = policy_get(j->gen, j->idx);
	/* With no cgroup named, every socket has the default: no walk. */
	if (pol && !(pol->flags & NFSG_POLICY_SOLE)) {
		j->idx = policy_index_cached(socket_cgroup(a->sk, how), word,
					     how);
		if (j->idx != NFSG_DEFAULT_POLICY) {
			pol = policy_get(j->gen, j->idx);
			if (!pol) {
				/* An index the generation lacks: fail closed,
				 * to the default. */
				j->idx = NFSG_DEFAULT_POLICY;
				pol = policy_get(j->gen, j->idx);
			}
		}
	}
	if (pol)
		j->flags = pol->flags;
	if (!pol || pol->mode == NFSG_MODE_OFF ||
	    !(pol->protocols & a->govern))
		return;
	if (!in_ranges(pol->ports, pol->n_ports, a->port)) {
		/* A local port: to a loopback destination only. */
		if (!pol->n_lports || !loopback(a->daddr) ||
		    !local_ranges(pol->lports, pol->n_lports, a->port))
			return;
		j->local = 1;
	}

	/* An unreadable uid or gid is NFSG_ID_UNKNOWN: never privileged. */
	privileged = id_privileged(pol->uids, pol->n_uids, j->uid) ||
		     (pol->n_gids &&
		      id_privileged(pol->gids, pol->n_gids,
				    socket_gid(a->sk, how)));
	if (privileged && (!(pol->flags & NFSG_POLICY_ALLOWLIST) ||
			   dest_allowed(a->daddr, j->gen, j->idx))) {
		j->verdict = NFSG_VERDICT_ALLOW;
		return;
	}
	j->reason = privileged ? NFSG_REASON_DESTINATION : NFSG_REASON_OWNER;
	j->verdict = pol->mode == NFSG_MODE_AUDIT ? NFSG_VERDICT_AUDIT
						  : NFSG_VERDICT_REFUSE;
}

/* The counters' family of a hook's, or a socket's, address family. */
static __always_inline __u32 counter_family(__u16 family)
{
	return family == AF_INET ? NFSG_FAM_IPV4 : NFSG_FAM_IPV6;
}

/* Count a governed attempt's verdict, in total and for its policy and
 * family (enum nfsg_counter_family). */
static __always_inline void count_verdict(const struct judgement *j,
					  __u32 fam)
{
	switch (j->verdict) {
	case NFSG_VERDICT_ALLOW:
		count(NFSG_CTR_ALLOWED);
		count_policy(j->gen, j->idx, fam, NFSG_PCTR_ALLOWED);
		break;
	case NFSG_VERDICT_AUDIT:
		count(NFSG_CTR_AUDITED);
		count_policy(j->gen, j->idx, fam, NFSG_PCTR_AUDITED);
		break;
	default:
		count(NFSG_CTR_REFUSED);
		count_policy(j->gen, j->idx, fam, NFSG_PCTR_REFUSED);
	}
}

/* The fields of a connect event (the common ones are set already). */
static __always_inline void fill_connect(struct nfsg_event *e,
					 const struct attempt *a,
					 const struct judgement *j, int how)
{
	__u32 *d = (__u32 *)e->daddr;

	e->reason = j->reason;
	e->local = j->local;
	e->uid = j->uid;
	e->gid = socket_gid(a->sk, how);
	e->netns = socket_netns(a->sk, how);
	e->family = a->family;
	e->dport = a->port;
	e->protocol = a->protocol;
	e->verdict = j->verdict;
	if (a->family == AF_INET) {
		d[0] = a->daddr[3];
	} else {
		d[0] = a->daddr[0];
		d[1] = a->daddr[1];
		d[2] = a->daddr[2];
		d[3] = a->daddr[3];
	}
}

/*
 * Report a governed attempt at connect or sendmsg: at once (refused,
 * audited, or allowed UDP), or, for an allowed TCP connect, once its
 * outcome is known. The trace filters and the rate limit come first; the
 * counters were kept already.
 */
static __always_inline void report(struct bpf_sock_addr *ctx,
				   const struct attempt *a,
				   const struct judgement *j, int how)
{
	__u64 cgid = cgroup_id(socket_cgroup(a->sk, how), how);
	struct nfsg_event tmpl = {}, *e;
	__u32 suppressed;

	if (!filters_match(a->daddr, a->port, j->uid, cgid, a->sk, how) ||
	    !rl_admit(cgid, j->uid, &suppressed, how))
		return;
	if (j->verdict == NFSG_VERDICT_ALLOW &&
	    a->protocol != NFSG_PROTO_UDP) {
		event_fill(&tmpl, NFSG_EV_CONNECT, cgid, j->gen, j->idx,
			   TASK_ALL);
		fill_connect(&tmpl, a, j, how);
		tmpl.suppressed = suppressed;
		trace_follow(ctx, &tmpl);
		return;
	}
	e = event_start(sizeof(*e), NFSG_EV_CONNECT, cgid, j->gen, j->idx,
			TASK_ALL);
	if (!e)
		return;
	fill_connect(e, a, j, how);
	e->suppressed = suppressed;
	event_submit(e);
}

/* The protocol a sock_addr program's socket is governed as, or 0. */
static __always_inline __u8 governed_as(const struct bpf_sock_addr *ctx)
{
	__u32 protocol = ctx->protocol;

	if (ctx->type == SOCK_STREAM &&
	    (protocol == NFSG_PROTO_TCP || protocol == NFSG_PROTO_MPTCP))
		return NFSG_GOVERN_TCP;
	if (ctx->type == SOCK_DGRAM && protocol == NFSG_PROTO_UDP)
		return NFSG_GOVERN_UDP;
	return 0;
}

/* A connect or sendmsg, at its hook of family family. */
static __always_inline int decide(struct bpf_sock_addr *ctx, __u16 family,
				  int how)
{
	struct attempt a = { .family = family };
	struct judgement j;
	__u32 p;

	/* A family the kernel will not treat as the hook's is refused by
	 * the kernel after this program (see include/guard.h); AF_UNSPEC,
	 * which udp_sendmsg() takes as AF_INET, is decided as the hook's. */
	if (ctx->user_family != family && ctx->user_family != AF_UNSPEC)
		return SK_VERDICT_PASS;
	a.govern = governed_as(ctx);
	if (!a.govern)
		return SK_VERDICT_PASS;
	/* user_port holds the port in network order in its low 16 bits.
	 * Verifiers before 6.13 lose a byte swap's bounds: mask again. */
	p = bpf_ntohs((__u16)ctx->user_port);
	barrier_var(p);
	a.port = p & 0xffff;
	/* The fast path: a port no policy governs costs one bitmap test,
	 * and is not even counted. */
	if (!port_filtered(a.govern, a.port))
		return SK_VERDICT_PASS;

	a.protocol = ctx->protocol;
	a.sk = sock_of(ctx, how);
	mapped_daddr(ctx, family, a.daddr);
	judge(&a, &j, how | NFSG_IN_TASK);
	if (!j.verdict) {
		count(NFSG_CTR_PASSED);
		return SK_VERDICT_PASS;
	}
	count_verdict(&j, counter_family(family));
	if (j.verdict != NFSG_VERDICT_ALLOW || trace_enabled)
		report(ctx, &a, &j, how);
	return j.verdict == NFSG_VERDICT_REFUSE ? SK_VERDICT_REFUSE
						: SK_VERDICT_PASS;
}

/*
 * Builds: every hook in three builds, of which the agent loads one
 * (user/probe.c chooses by what the verifier accepts):
 *   nfsg_<hook>    direct reads, atomics: Linux 6.7 and later;
 *   nfsg_<hook>_p  probed reads, atomics: 5.12 and later;
 *   nfsg_<hook>_l  probed reads, no atomics: 5.10 and 5.11, whose verifier
 *                  refuses atomic instructions even where they cannot run.
 * They differ only in how they read facts; the decision is decide().
 */
#define NFSG_BUILD_DIRECT 0
#define NFSG_BUILD_PROBED NFSG_READ_PROBE
#define NFSG_BUILD_LEGACY (NFSG_READ_PROBE | NFSG_NO_ATOMICS)

SEC("cgroup/connect4")
int nfsg_connect4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET, NFSG_BUILD_DIRECT);
}

SEC("cgroup/connect6")
int nfsg_connect6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6, NFSG_BUILD_DIRECT);
}

SEC("cgroup/sendmsg4")
int nfsg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET, NFSG_BUILD_DIRECT);
}

SEC("cgroup/sendmsg6")
int nfsg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6, NFSG_BUILD_DIRECT);
}

SEC("cgroup/connect4")
int nfsg_connect4_p(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET, NFSG_BUILD_PROBED);
}

SEC("cgroup/connect6")
int nfsg_connect6_p(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6, NFSG_BUILD_PROBED);
}

SEC("cgroup/sendmsg4")
int nfsg_sendmsg4_p(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET, NFSG_BUILD_PROBED);
}

SEC("cgroup/sendmsg6")
int nfsg_sendmsg6_p(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6, NFSG_BUILD_PROBED);
}

SEC("cgroup/connect4")
int nfsg_connect4_l(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET, NFSG_BUILD_LEGACY);
}

SEC("cgroup/connect6")
int nfsg_connect6_l(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6, NFSG_BUILD_LEGACY);
}

SEC("cgroup/sendmsg4")
int nfsg_sendmsg4_l(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET, NFSG_BUILD_LEGACY);
}

SEC("cgroup/sendmsg6")
int nfsg_sendmsg6_l(struct bpf_sock_addr *ctx)
{
	return decide(ctx, AF_INET6, NFSG_BUILD_LEGACY);
}

/* The socket's own addresses, for the agent to find it again. */
static __always_inline void fill_egress(struct nfsg_egress_event *r,
					const struct tcp_sock *tp)
{
	const struct sock_common *c = &tp->inet_conn.icsk_inet.sk.__sk_common;
	__u32 *d = (__u32 *)r->sock_daddr, *s = (__u32 *)r->sock_saddr;

	/* The ring buffer's memory is not zeroed: every byte is set. */
	__builtin_memset((void *)r + sizeof(r->e), 0, sizeof(*r) - sizeof(r->e));
	r->sock_family = c->skc_family;
	r->sock_dport = bpf_ntohs(c->skc_dport);
	r->sock_sport = c->skc_num;
	if (r->sock_family == AF_INET) {
		d[0] = c->skc_daddr;
		s[0] = c->skc_rcv_saddr;
	} else {
		BPF_CORE_READ_INTO(&r->sock_daddr, c, skc_v6_daddr);
		BPF_CORE_READ_INTO(&r->sock_saddr, c, skc_v6_rcv_saddr);
	}
}

/* The socket's own destination, as its connect hook judged it. */
static __always_inline void socket_dest(struct attempt *a,
					const struct sock_common *c)
{
	a->family = c->skc_family;
	a->port = bpf_ntohs(c->skc_dport);
	if (a->family == AF_INET) {
		a->daddr[2] = bpf_htonl(0xffff);
		a->daddr[3] = c->skc_daddr;
	} else {
		BPF_CORE_READ_INTO(&a->daddr, c, skc_v6_daddr);
	}
}

/* Does the packet's destination differ from the socket's (NAT)? */
static __always_inline bool dest_differs(const struct attempt *a,
					 const struct tcp_sock *tp)
{
	const struct sock_common *c = &tp->inet_conn.icsk_inet.sk.__sk_common;
	__u32 v6[4];

	if (a->port != bpf_ntohs(c->skc_dport))
		return true;
	if (a->family == AF_INET)
		return a->daddr[3] != c->skc_daddr;
	BPF_CORE_READ_INTO(&v6, c, skc_v6_daddr);
	return a->daddr[0] != v6[0] || a->daddr[1] != v6[1] ||
	       a->daddr[2] != v6[2] || a->daddr[3] != v6[3];
}

/*
 * The backstop: a SYN on its way out, after NAT and after any other
 * cgroup program rewrote the connect's address, judged by the same
 * decision on the destination it really goes to. Every other packet costs
 * two loads and a test. A refused SYN is dropped; the agent aborts its
 * socket on the event, so connect() fails at once (ECONNABORTED).
 */
static __always_inline int backstop(struct __sk_buff *skb, int how)
{
	struct nfsg_egress_event *r;
	struct bpf_sock *bs = skb->sk;
	const struct tcp_sock *tp;
	struct judgement j;
	__u64 cookie, cgid;
	bool parsed, rewritten;
	struct attempt a;
	__u8 *seen;

	if (!bs || bs->state != BPF_TCP_SYN_SENT)
		return SK_VERDICT_PASS;
	/* Set here, not where declared: an initialiser is a copy of a
	 * constant in memory, which every packet would load before the test
	 * above. */
	__builtin_memset(&a, 0, sizeof(a));
	a.protocol = NFSG_PROTO_TCP;
	a.govern = NFSG_GOVERN_TCP;
	/* Most SYNs go to ports nothing governs: they pass once their
	 * headers are read, and the socket is looked at only for others. */
	parsed = packet_dest(skb, a.daddr, &a.family, &a.port);
	if (parsed && !port_filtered(NFSG_GOVERN_TCP, a.port))
		return SK_VERDICT_PASS;
	tp = bpf_skc_to_tcp_sock(bs);
	if (!tp)
		return SK_VERDICT_PASS;
	if (!parsed) {
		/* Headers we cannot read for certain: the socket's own
		 * destination, the one its connect hook judged. */
		socket_dest(&a, &tp->inet_conn.icsk_inet.sk.__sk_common);
		if (!port_filtered(NFSG_GOVERN_TCP, a.port))
			return SK_VERDICT_PASS;
	}
	rewritten = dest_differs(&a, tp);

	cookie = bpf_get_socket_cookie(skb);
	seen = bpf_map_lookup_elem(&nfsg_egress_seen, &cookie);
	if (seen)	/* a retransmission: judged already */
		return *seen == NFSG_VERDICT_REFUSE ? SK_VERDICT_REFUSE
						    : SK_VERDICT_PASS;
	a.sk = (const struct sock *)tp;
	judge(&a, &j, how);
	/* An audited connect to the address its hook saw was reported
	 * there; only a refusal must be acted on whatever happened. */
	if (!j.verdict || j.verdict == NFSG_VERDICT_ALLOW ||
	    (j.flags & NFSG_POLICY_NO_BACKSTOP) ||
	    (j.verdict == NFSG_VERDICT_AUDIT && !rewritten))
		return SK_VERDICT_PASS;
	bpf_map_update_elem(&nfsg_egress_seen, &cookie, &j.verdict, BPF_ANY);
	/* Counted as the socket's family: its connect hook's. */
	count_verdict(&j, counter_family(tp->inet_conn.icsk_inet.sk
						 .__sk_common.skc_family));
	/* Not rate-limited: the agent needs every record to abort. */
	cgid = cgroup_id(socket_cgroup(a.sk, how), how);
	/* The first SYN goes out in the connecting task, whose pid leads
	 * the agent to the socket's network namespace. */
	r = (void *)event_start(sizeof(*r), NFSG_EV_EGRESS, cgid, j.gen, j.idx,
				(skb_pid ? TASK_PID : 0) |
				(skb_comm ? TASK_COMM : 0));
	if (r) {
		fill_connect(&r->e, &a, &j, how);
		fill_egress(r, tp);
		r->cookie = cookie;
		bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	}
	return j.verdict == NFSG_VERDICT_REFUSE ? SK_VERDICT_REFUSE
						: SK_VERDICT_PASS;
}

/* The backstop in two builds: with atomics, and without (Linux 5.10). */
SEC("cgroup_skb/egress")
int nfsg_egress(struct __sk_buff *skb)
{
	return backstop(skb, NFSG_BUILD_PROBED);
}

SEC("cgroup_skb/egress")
int nfsg_egress_l(struct __sk_buff *skb)
{
	return backstop(skb, NFSG_BUILD_LEGACY);
}

/* cgroup2 is the default hierarchy, whose id is 0; v1 ones count from 1. */
static __always_inline bool on_cgroup2(const struct cgroup *cg)
{
	return cg->root->hierarchy_id == 0;
}

/* How a new cgroup is named in a cgroups map; tests/variants/unnamed.h
 * makes it fail, as a kernel out of memory would. */
#ifndef NFSG_NAME_CGROUP
#define NFSG_NAME_CGROUP(map, id, idx) bpf_map_update_elem(map, id, idx, BPF_ANY)
#endif

/*
 * Name a new cgroup in generation gen's map if a policy names its path.
 * The maps are not preallocated, so the update can fail for want of
 * memory: the event goes out all the same, and the agent, which checks
 * the active generation's map at every such event, names it from user
 * space (the inactive generation is rebuilt before it is used again).
 */
static __always_inline void cgroup_added(__u32 gen,
					const struct nfsg_path_key *key,
					__u64 id)
{
	void *paths, *cgroups;
	__u32 *idx;

	paths = bpf_map_lookup_elem(&nfsg_paths, &gen);
	idx = paths ? bpf_map_lookup_elem(paths, key) : NULL;
	cgroups = bpf_map_lookup_elem(&nfsg_cgroups, &gen);
	if (!idx || !cgroups)
		return;
	NFSG_NAME_CGROUP(cgroups, &id, idx);
	if (gen == active_gen())
		cgroup_event(NFSG_EV_CGROUP_ADDED, id, gen, *idx, key->path);
}

/* Forget a removed cgroup in generation gen's map. */
static __always_inline void cgroup_removed(__u32 gen, __u64 id,
					  const char *path)
{
	void *cgroups = bpf_map_lookup_elem(&nfsg_cgroups, &gen);
	__u32 *idx, policy;

	idx = cgroups ? bpf_map_lookup_elem(cgroups, &id) : NULL;
	if (!idx)
		return;
	policy = *idx;
	bpf_map_delete_elem(cgroups, &id);
	if (gen == active_gen())
		cgroup_event(NFSG_EV_CGROUP_REMOVED, id, gen, policy, path);
}

/*
 * A cgroup a policy names by path may be created after the agent started,
 * or removed and created again with a new id. Name it in both generations'
 * maps as it is created: synchronously, before any task can enter it.
 */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(nfsg_cg_mkdir, struct cgroup *cg, const char *path)
{
	struct nfsg_path_key key = {};
	__u64 id;

	if (!on_cgroup2(cg))
		return 0;
	if (bpf_probe_read_kernel_str(key.path, sizeof(key.path), path) < 0)
		return 0;
	id = cg->kn->id;
	cgroup_added(0, &key, id);
	cgroup_added(1, &key, id);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(nfsg_cg_rmdir, struct cgroup *cg, const char *path)
{
	__u64 id;

	if (!on_cgroup2(cg))
		return 0;
	id = cg->kn->id;
	cgroup_removed(0, id, path);
	cgroup_removed(1, id, path);
	return 0;
}

/*
 * Existing connections (include/guard.h, "Existing connections"): every
 * TCP socket, and every connected UDP socket, of the iterator's network
 * namespace, judged by judge() on its own destination, as its connect
 * (or sendmsg) hook judged it. One record per governed socket goes to the
 * seq file; a refused one is aborted when nfsg_iter_destroy asks
 * (bpf_sock_destroy, Linux 6.5, in programs of their own so that older
 * kernels load the rest).
 */
extern int bpf_sock_destroy(struct sock_common *sk) __ksym __weak;

/* Set by the loader: bpf_get_socket_cookie() is callable here (Linux
 * 5.12, probed as KF_TRACE); else the record carries skc_cookie, 0 for a
 * socket nobody asked a cookie of, and the agent finds it by sock_diag. */
const volatile bool iter_cookie = false;

/* Set by the agent before each walk: enum nfsg_iter_destroy, and the
 * cgroup the hooks are attached to (its id and level): a socket outside
 * it is governed by no hook of ours, so it is neither listed nor judged. */
volatile __u32 nfsg_iter_destroy = NFSG_ITER_LIST;
volatile __u64 nfsg_iter_root_id = 0;
volatile __u32 nfsg_iter_root_level = 0;

static __always_inline bool under_attach_point(const struct sock *sk)
{
	const struct cgroup *cg = socket_cgroup(sk, NFSG_BUILD_PROBED);
	__u32 level = nfsg_iter_root_level;

	if (!level)
		return true;
	return cgroup_level(cg, NFSG_BUILD_PROBED) >= level &&
	       cgroup_ancestor_id(cg, level, NFSG_BUILD_PROBED) ==
		       nfsg_iter_root_id;
}

static __always_inline bool destroy_wanted(const struct judgement *j)
{
	__u32 d = nfsg_iter_destroy;

	return j->verdict == NFSG_VERDICT_REFUSE &&
	       (d == NFSG_ITER_ALL ||
		(d == NFSG_ITER_BY_POLICY &&
		 (j->flags & NFSG_POLICY_DESTROY_EXISTING)));
}

/* The socket's addresses and namespace, as the agent finds it again. */
static __always_inline void fill_record_addrs(struct nfsg_sock_record *r,
					      const struct sock_common *c)
{
	__u32 *d = (__u32 *)r->daddr, *s = (__u32 *)r->saddr;

	r->family = c->skc_family;
	r->sport = c->skc_num;
	r->netns = c->skc_net.net->ns.inum;
	if (r->family == AF_INET) {
		d[0] = c->skc_daddr;
		s[0] = c->skc_rcv_saddr;
	} else {
		BPF_CORE_READ_INTO(&r->daddr, c, skc_v6_daddr);
		BPF_CORE_READ_INTO(&r->saddr, c, skc_v6_rcv_saddr);
	}
}

/*
 * One socket of a walk: skc is the iterator's own pointer (what the
 * helpers take), sk the same socket as a struct sock; protocol and govern
 * say how its hook judged it (NFSG_PROTO_TCP/_GOVERN_TCP or _UDP).
 */
static __always_inline int existing(struct seq_file *seq,
				    struct sock_common *skc,
				    const struct sock *sk, __u16 protocol,
				    __u8 govern, bool destroy)
{
	struct attempt a = { .protocol = protocol, .govern = govern };
	struct nfsg_sock_record r = {};
	struct judgement j;
	__u8 state;

	state = BPF_CORE_READ(skc, skc_state);
	/* UDP: connected (TCP_ESTABLISHED); TCP: also connecting and
	 * half-closed by the peer (still writable). */
	if (state != TCP_ESTABLISHED &&
	    (govern == NFSG_GOVERN_UDP ||
	     (state != TCP_SYN_SENT && state != TCP_CLOSE_WAIT)))
		return 0;
	socket_dest(&a, skc);
	if (!port_filtered(govern, a.port))
		return 0;
	a.sk = sk;
	if (!under_attach_point(a.sk))
		return 0;
	judge(&a, &j, NFSG_BUILD_PROBED);
	if (!j.verdict)
		return 0;
	fill_record_addrs(&r, skc);
	r.state = state;
	r.dport = a.port;
	r.protocol = a.protocol;
	r.uid = j.uid;
	r.gid = socket_gid(a.sk, NFSG_BUILD_PROBED);
	r.policy = j.idx;
	r.gen = j.gen;
	r.verdict = j.verdict;
	r.reason = j.reason;
	r.cgroup_id = cgroup_id(socket_cgroup(a.sk, NFSG_BUILD_PROBED),
				NFSG_BUILD_PROBED);
	/* A cookie for every socket, so that sock_diag aborts this one. */
	r.cookie = iter_cookie ? bpf_get_socket_cookie(skc)
			       : BPF_CORE_READ(skc, skc_cookie.counter);
	r.ino = socket_ino(a.sk);
	r.destroyed = NFSG_NOT_DESTROYED;
	if (destroy && destroy_wanted(&j) && bpf_sock_destroy)
		r.destroyed = bpf_sock_destroy(skc);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

static __always_inline int existing_tcp(struct bpf_iter__tcp *ctx,
					bool destroy)
{
	struct sock_common *skc = ctx->sk_common;
	const struct tcp_sock *tp;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	return existing(ctx->meta->seq, skc, (const struct sock *)tp,
			NFSG_PROTO_TCP, NFSG_GOVERN_TCP, destroy);
}

static __always_inline int existing_udp(struct bpf_iter__udp *ctx,
					bool destroy)
{
	struct udp_sock *udp = ctx->udp_sk;

	if (!udp)
		return 0;
	return existing(ctx->meta->seq, (struct sock_common *)udp,
			(const struct sock *)udp, NFSG_PROTO_UDP,
			NFSG_GOVERN_UDP, destroy);
}

/* List and judge only: from Linux 5.10. */
SEC("iter/tcp")
int nfsg_iter_tcp(struct bpf_iter__tcp *ctx)
{
	return existing_tcp(ctx, false);
}

SEC("iter/udp")
int nfsg_iter_udp(struct bpf_iter__udp *ctx)
{
	return existing_udp(ctx, false);
}

/* The same, aborting as asked: Linux 6.5 (bpf_sock_destroy). */
SEC("iter/tcp")
int nfsg_iter_tcp_d(struct bpf_iter__tcp *ctx)
{
	return existing_tcp(ctx, true);
}

SEC("iter/udp")
int nfsg_iter_udp_d(struct bpf_iter__udp *ctx)
{
	return existing_udp(ctx, true);
}

/*
 * The holders of sockets (include/guard.h, struct nfsg_file_record): one
 * record per socket file of each process, from Linux 5.8. The iterator
 * visits each thread group's files table once.
 */
SEC("iter/task_file")
int nfsg_iter_files(struct bpf_iter__task_file *ctx)
{
	struct nfsg_file_record r = {};
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct inode *inode;

	if (!task || !file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode || (BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	r.ino = BPF_CORE_READ(inode, i_ino);
	r.gid = BPF_CORE_READ(inode, i_gid.val);
	r.pid = BPF_CORE_READ(task, tgid);
	bpf_probe_read_kernel_str(r.comm, sizeof(r.comm), task->comm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
