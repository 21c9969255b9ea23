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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The fields of a connect event (the common ones are set already). */
static __always_inline void fill_connect(struct nfsg_event *e,
					 const struct bpf_sock_addr *ctx,
					 const struct sock *sk, __u16 family,
					 __u16 port, __u16 protocol, __u32 uid,
					 __u8 verdict, __u8 reason, int how)
{
	__u32 *a = (__u32 *)e->daddr;

	e->reason = reason;
	e->uid = uid;
	e->gid = socket_gid(sk, how);
	e->family = family;
	e->dport = port;
	e->protocol = protocol;
	e->verdict = verdict;
	if (family == AF_INET) {
		a[0] = ctx->user_ip4;
	} else {
		/* user_ip6 allows 4-byte loads only: copy word by word. */
		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
	}
}

/*
 * Report a governed attempt: at once (refused, audited, or allowed UDP),
 * or, for an allowed TCP connect, once its outcome is known. The trace
 * filters and the rate limit come first; the counters were kept already.
 */
static __always_inline void report(struct bpf_sock_addr *ctx,
				   const struct sock *sk, __u16 family,
				   __u16 port, __u16 protocol, __u32 uid,
				   __u32 gen, __u32 idx, __u8 verdict, __u8 reason,
				   int how)
{
	__u64 cgid = cgroup_id(socket_cgroup(sk, how), how);
	struct nfsg_event tmpl = {}, *e;
	__u32 suppressed;

	if (!filters_match(ctx, sk, family, port, uid, how) ||
	    !rl_admit(cgid, uid, &suppressed, how))
		return;
	if (verdict == NFSG_VERDICT_ALLOW && protocol != NFSG_PROTO_UDP) {
		event_fill(&tmpl, NFSG_EV_CONNECT, cgid, gen, idx);
		fill_connect(&tmpl, ctx, sk, family, port, protocol, uid,
			     verdict, reason, how);
		tmpl.suppressed = suppressed;
		trace_follow(ctx, &tmpl);
		return;
	}
	e = event_start(sizeof(*e), NFSG_EV_CONNECT, cgid, gen, idx);
	if (!e)
		return;
	fill_connect(e, ctx, sk, family, port, protocol, uid, verdict, reason,
		     how);
	e->suppressed = suppressed;
	event_submit(e);
}

/*
 * The one decision, for every hook and kernel; how says only how socket
 * facts are read (bpf/socket.h).
 */
static __always_inline int decide(struct bpf_sock_addr *ctx, __u16 family,
				  int how)
{
	__u32 protocol = ctx->protocol, gen, idx, uid, p;
	const struct nfsg_policy *pol;
	const struct sock *sk, *owner;
	bool privileged;
	__u8 govern, verdict, reason;
	__u16 port;

	/* A family the kernel will not treat as the hook's is refused by
	 * the kernel after this program (see include/guard.h); AF_UNSPEC,
	 * which udp_sendmsg() takes as AF_INET, is decided as the hook's. */
	if (ctx->user_family != family && ctx->user_family != AF_UNSPEC)
		return SK_VERDICT_PASS;
	if (ctx->type == SOCK_STREAM &&
	    (protocol == NFSG_PROTO_TCP || protocol == NFSG_PROTO_MPTCP))
		govern = NFSG_GOVERN_TCP;
	else if (ctx->type == SOCK_DGRAM && protocol == NFSG_PROTO_UDP)
		govern = NFSG_GOVERN_UDP;
	else
		return SK_VERDICT_PASS;
	/* user_port holds the port in network order in its low 16 bits.
	 * Verifiers before 6.13 lose a byte swap's bounds: mask again. */
	p = bpf_ntohs((__u16)ctx->user_port);
	barrier_var(p);
	port = p & 0xffff;
	/* The fast path: a port no policy governs costs one bitmap test,
	 * and is not even counted. */
	if (!port_filtered(govern, port))
		return SK_VERDICT_PASS;

	sk = sock_of(ctx, how);
	owner = kernel_socket(sk, how) && protocol == NFSG_PROTO_TCP ?
			mptcp_owner(sk, how) : NULL;
	if (owner) {
		/* Judge, and report, the subflow as its MPTCP socket. */
		sk = owner;
		protocol = NFSG_PROTO_MPTCP;
	}
	/* The kernel's own sockets pass: the in-kernel NFS client's, made in
	 * a kworker. A kernel socket a user's request made (SMC's TCP socket,
	 * say) carries that user's uid, and is judged like any other. */
	uid = socket_uid(sk, how);
	if (kernel_socket(sk, how) && uid == 0)
		goto pass;

	gen = active_gen();
	idx = NFSG_DEFAULT_POLICY;
	pol = policy_get(gen, idx);
	/* With no cgroup named, every socket has the default: no walk. */
	if (pol && !(pol->flags & NFSG_POLICY_SOLE)) {
		idx = policy_index(socket_cgroup(sk, how), gen, how);
		if (idx != NFSG_DEFAULT_POLICY) {
			pol = policy_get(gen, idx);
			if (!pol) {
				/* An index the generation lacks: fail closed,
				 * to the default. */
				idx = NFSG_DEFAULT_POLICY;
				pol = policy_get(gen, idx);
			}
		}
	}
	if (!pol || pol->mode == NFSG_MODE_OFF || !(pol->protocols & govern) ||
	    (!in_ranges(pol->ports, pol->n_ports, port) && !extra_port(port)))
		goto pass;

	/* An unreadable uid or gid is NFSG_ID_UNKNOWN: never privileged. */
	privileged = id_privileged(pol->uids, pol->n_uids, uid) ||
		     (pol->n_gids &&
		      id_privileged(pol->gids, pol->n_gids, socket_gid(sk, how)));
	if (privileged && (!(pol->flags & NFSG_POLICY_ALLOWLIST) ||
			   dest_allowed(ctx, family, gen, idx))) {
		count(NFSG_CTR_ALLOWED);
		count_policy(gen, idx, NFSG_PCTR_ALLOWED);
		if (trace_enabled)
			report(ctx, sk, family, port, protocol, uid, gen, idx,
			       NFSG_VERDICT_ALLOW, NFSG_REASON_NONE, how);
		return SK_VERDICT_PASS;
	}
	reason = privileged ? NFSG_REASON_DESTINATION : NFSG_REASON_OWNER;

	if (pol->mode == NFSG_MODE_AUDIT) {
		verdict = NFSG_VERDICT_AUDIT;
		count(NFSG_CTR_AUDITED);
		count_policy(gen, idx, NFSG_PCTR_AUDITED);
	} else {
		verdict = NFSG_VERDICT_REFUSE;
		count(NFSG_CTR_REFUSED);
		count_policy(gen, idx, NFSG_PCTR_REFUSED);
	}
	report(ctx, sk, family, port, protocol, uid, gen, idx, verdict, reason,
	       how);
	return verdict == NFSG_VERDICT_AUDIT ? SK_VERDICT_PASS
					     : SK_VERDICT_REFUSE;
pass:
	count(NFSG_CTR_PASSED);
	return SK_VERDICT_PASS;
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

/* cgroup2 is the default hierarchy, whose id is 0; v1 ones count from 1. */
static __always_inline bool on_cgroup2(const struct cgroup *cg)
{
	return cg->root->hierarchy_id == 0;
}

/* Name a new cgroup in generation gen's map if a policy names its path. */
static __always_inline void cgroup_added(__u32 gen,
					const struct nfsg_path_key *key,
					__u64 id)
{
	void *paths, *cgroups;
	__u32 *idx;

	paths = bpf_map_lookup_elem(&nfsg_paths, &gen);
	idx = paths ? bpf_map_lookup_elem(paths, key) : NULL;
	cgroups = bpf_map_lookup_elem(&nfsg_cgroups, &gen);
	if (!idx || !cgroups || bpf_map_update_elem(cgroups, &id, idx, BPF_ANY))
		return;
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
