/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * socket.h - what the decision needs to know of a socket and its cgroup:
 * its owner, its group, whether the kernel made it, its network namespace,
 * and its cgroup with that cgroup's ancestors.
 *
 * Kernels differ only in how these facts can be read, never in what they
 * mean. Each accessor takes how (a compile-time constant, so every program
 * is built for one way, see "Builds" in bpf/guard.bpf.c) and reads:
 *
 *   direct (how without NFSG_READ_PROBE): with loads through
 *            bpf_rdonly_cast(), which cgroup sock_addr programs may call
 *            from Linux 6.7;
 *   probed (NFSG_READ_PROBE): with bpf_probe_read_kernel(), from Linux
 *            5.10 (and earlier); one helper call a field.
 *
 * The agent loads the programs of one build only, chosen by probing what
 * the verifier accepts (user/probe.c). A fact that cannot be read for certain
 * reads as NFSG_ID_UNKNOWN, which no privileged range may match, or as
 * "not a kernel socket", which is judged (see include/guard.h).
 */
#ifndef NFSGUARD_BPF_SOCKET_H
#define NFSGUARD_BPF_SOCKET_H

/* Bits of how: a build of the hooks. */
#define NFSG_READ_PROBE 0x1	/* probed reads, else direct */
#define NFSG_NO_ATOMICS 0x2	/* no BPF atomics but add (bpf/ratelimit.h) */
/* A bit of how beside the build: the program runs in the task that
 * connects or sends (a sock_addr hook), not for whoever sends a packet. */
#define NFSG_IN_TASK 0x4
#define direct_reads(how) (!((how) & NFSG_READ_PROBE))

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Linux before 5.15: the cgroup pointer is a word of a union. */
struct sock_cgroup_data___old {
	__u64 val;
} __attribute__((preserve_access_index));

/* Linux before 6.0: the ancestors' ids, not pointers to them. */
struct cgroup___old {
	__u64 ancestor_ids[0];
} __attribute__((preserve_access_index));

/* A probed read of one word at addr; false if the read failed. */
#define probe_word(dst, addr)                                                \
	(!bpf_probe_read_kernel(&(dst), sizeof(dst), (const void *)(addr)))

/* The socket a sock_addr program runs for. */
static __always_inline const struct sock *sock_of(struct bpf_sock_addr *ctx,
						  int how)
{
	const struct sock *sk = NULL;

	if (direct_reads(how))
		return bpf_rdonly_cast(ctx->sk,
				       bpf_core_type_id_kernel(struct sock));
	/* The kernel's context (struct bpf_sock_addr_kern) holds it. */
	if (!probe_word(sk, (void *)ctx +
				    bpf_core_field_offset(struct bpf_sock_addr_kern,
							  sk)))
		return NULL;
	return sk;
}

/* Made by the kernel (sock_create_kern)? Unreadable: no, so it is judged. */
static __always_inline bool kernel_socket(const struct sock *sk, int how)
{
	if (direct_reads(how))
		return BPF_CORE_READ_BITFIELD(sk, sk_kern_sock);
	return sk && BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock);
}

/* sk_uid, in the initial user namespace; NFSG_ID_UNKNOWN if unreadable. */
static __always_inline __u32 socket_uid(const struct sock *sk, int how)
{
	__u32 uid;

	if (direct_reads(how))
		return sk->sk_uid.val;
	if (!sk || !probe_word(uid, &sk->sk_uid.val))
		return NFSG_ID_UNKNOWN;
	return uid;
}

/*
 * The gid of the task that created the socket: its inode's i_gid, which
 * sock_alloc() sets from the creator's fsgid, as it sets i_uid, which
 * becomes sk_uid. A kernel socket made at a user's request (SMC's TCP
 * socket) has an inode but no file, and so still reads right.
 * NFSG_ID_UNKNOWN when any pointer on the way is NULL or unreadable.
 */
static __always_inline __u32 socket_gid(const struct sock *sk, int how)
{
	__u64 inode_off = bpf_core_field_offset(struct socket_alloc, vfs_inode) -
			  bpf_core_field_offset(struct socket_alloc, socket);
	const struct socket *sock = NULL;
	const struct inode *inode;
	__u32 gid;

	if (direct_reads(how)) {
		sock = sk->sk_socket;
		if (!sock)
			return NFSG_ID_UNKNOWN;
		inode = bpf_rdonly_cast((void *)sock + inode_off,
					bpf_core_type_id_kernel(struct inode));
		return inode->i_gid.val;
	}
	if (!sk || !probe_word(sock, &sk->sk_socket) || !sock)
		return NFSG_ID_UNKNOWN;
	inode = (const void *)sock + inode_off;
	if (!probe_word(gid, &inode->i_gid.val))
		return NFSG_ID_UNKNOWN;
	return gid;
}

/* The inode number of the socket's file (what ss shows as ino), read
 * with probed reads; 0 for a socket without one or when unreadable. */
static __always_inline __u64 socket_ino(const struct sock *sk)
{
	__u64 inode_off = bpf_core_field_offset(struct socket_alloc, vfs_inode) -
			  bpf_core_field_offset(struct socket_alloc, socket);
	const struct socket *sock = NULL;
	const struct inode *inode;
	unsigned long ino;

	if (!sk || !probe_word(sock, &sk->sk_socket) || !sock)
		return 0;
	inode = (const void *)sock + inode_off;
	if (!probe_word(ino, &inode->i_ino))
		return 0;
	return ino;
}

/* The inode number of the socket's network namespace, as ip netns
 * identify and lsns show it; 0 if unreadable. */
static __always_inline __u32 socket_netns(const struct sock *sk, int how)
{
	const struct net *net = NULL;
	__u32 inum;

	if (direct_reads(how))
		return sk->__sk_common.skc_net.net->ns.inum;
	if (!sk || !probe_word(net, &sk->__sk_common.skc_net.net) || !net ||
	    !probe_word(inum, &net->ns.inum))
		return 0;
	return inum;
}

/*
 * An MPTCP socket connects through a subflow: a kernel TCP socket the MPTCP
 * stack creates on its behalf. Returns the MPTCP socket that owns a
 * subflow, NULL for any other socket. Only TCP sockets may be passed.
 */
static __always_inline const struct sock *mptcp_owner(const struct sock *sk,
						      int how)
{
	const struct mptcp_subflow_context *sf = NULL;
	const struct tcp_sock *tp = (const void *)sk;
	const struct sock *conn = NULL;
	bool is_mptcp = false;

	if (!bpf_core_field_exists(tp->is_mptcp))
		return NULL;
	if (direct_reads(how)) {
		tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
		if (!tp->is_mptcp)
			return NULL;
		sf = bpf_rdonly_cast(tp->inet_conn.icsk_ulp_data,
				     bpf_core_type_id_kernel(struct mptcp_subflow_context));
		return sf->conn;
	}
	if (!probe_word(is_mptcp, &tp->is_mptcp) || !is_mptcp ||
	    !probe_word(sf, &tp->inet_conn.icsk_ulp_data) || !sf ||
	    !probe_word(conn, &sf->conn))
		return NULL;
	return conn;
}

/*
 * The cgroup the socket was created in: the one whose programs ran. NULL
 * stands for the cgroup2 root, as it does for the kernel before 5.15 when
 * the word holds net_cls/net_prio data instead (sock_cgroup_ptr()).
 */
static __always_inline const struct cgroup *socket_cgroup(const struct sock *sk,
							  int how)
{
	const struct sock_cgroup_data___old *old;
	const struct cgroup *cg = NULL;
	__u64 v;

	if (direct_reads(how))
		return sk->sk_cgrp_data.cgroup;
	if (!sk)
		return NULL;
	if (bpf_core_field_exists(struct sock_cgroup_data, cgroup)) {
		if (!probe_word(cg, &sk->sk_cgrp_data.cgroup))
			return NULL;
		return cg;
	}
	old = (const void *)&sk->sk_cgrp_data;
	if (!probe_word(v, &old->val) || (v & 3))
		return NULL;
	return (const struct cgroup *)v;
}

/* The root of the cgroup2 hierarchy has id 1. */
#define NFSG_ROOT_CGROUP_ID 1

static __always_inline __u64 cgroup_id(const struct cgroup *cg, int how)
{
	const struct kernfs_node *kn = NULL;
	__u64 id;

	if (!cg)
		return NFSG_ROOT_CGROUP_ID;
	if (direct_reads(how))
		return cg->kn->id;
	if (!probe_word(kn, &cg->kn) || !kn || !probe_word(id, &kn->id))
		return NFSG_ROOT_CGROUP_ID;
	return id;
}

static __always_inline __u32 cgroup_level(const struct cgroup *cg, int how)
{
	int level;

	if (!cg)
		return 0;
	if (direct_reads(how))
		return cg->level;
	if (!probe_word(level, &cg->level) || level < 0)
		return 0;
	return level;
}

/* cg's parent: the cgroup its self css's parent is the self of. */
static __always_inline const struct cgroup *cgroup_parent(const struct cgroup *cg,
							  int how)
{
	__u64 off = bpf_core_field_offset(struct cgroup, self);
	__u64 css = 0;

	if (!cg)
		return NULL;
	if (direct_reads(how))
		css = (__u64)cg->self.parent;
	else if (!probe_word(css, &cg->self.parent))
		return NULL;
	if (!css)
		return NULL;
	if (direct_reads(how))
		return bpf_rdonly_cast((void *)(css - off),
				       bpf_core_type_id_kernel(struct cgroup));
	return (const struct cgroup *)(css - off);
}

/*
 * cg's ancestor at level (cg's own level or above), or NULL; Linux 6.0 and
 * later. The slot of a flexible array is read by address.
 */
static __always_inline const struct cgroup *
cgroup_ancestor(const struct cgroup *cg, __u32 level, int how)
{
	const struct cgroup *anc = NULL;

	if (!cg || !probe_word(anc, (__u64)cg +
					    bpf_core_field_offset(struct cgroup,
								  ancestors) +
					    level * sizeof(anc)) ||
	    !anc)
		return NULL;
	if (direct_reads(how))
		return bpf_rdonly_cast(anc, bpf_core_type_id_kernel(struct cgroup));
	return anc;
}

/* The id of cg's ancestor at level; 0 if it cannot be read. */
static __always_inline __u64 cgroup_ancestor_id(const struct cgroup *cg,
						__u32 level, int how)
{
	const struct cgroup *anc;
	__u64 id;

	if (!cg)
		return level ? 0 : NFSG_ROOT_CGROUP_ID;
	if (!bpf_core_field_exists(struct cgroup___old, ancestor_ids)) {
		anc = cgroup_ancestor(cg, level, how);
		return anc ? cgroup_id(anc, how) : 0;
	}
	if (!probe_word(id, (__u64)cg +
				    bpf_core_field_offset(struct cgroup___old,
							  ancestor_ids) +
				    level * sizeof(id)))
		return 0;
	return id;
}

#endif
