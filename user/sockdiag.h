/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * sock_diag (NETLINK_SOCK_DIAG) through libmnl: dump the TCP or UDP
 * sockets of a network namespace, find one by its addresses, and abort
 * one, found by its addresses and checked by its cookie.
 */
#ifndef NFSGUARD_SOCKDIAG_H
#define NFSGUARD_SOCKDIAG_H

#include <linux/types.h>

/* One TCP or UDP socket as the kernel's diag tables know it. */
struct sockdiag_sock {
	__u64 cookie;		/* bpf_get_socket_cookie(), checked */
	__u8 saddr[16];		/* network order; IPv4: first 4 bytes */
	__u8 daddr[16];
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 protocol;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 __pad;
};

/*
 * A netlink sock_diag socket in network namespace netns (an fd of
 * /proc/PID/ns/net, or -1 for the agent's own): entering another one needs
 * CAP_SYS_ADMIN, for a moment, in this thread only. Returns the fd or
 * -errno.
 */
int sockdiag_open(int netns);
/*
 * SOCK_DESTROY: the socket is aborted (its owner sees ECONNABORTED) if it
 * still exists and still has the cookie. 0, or -errno (-ENOENT: gone;
 * -EOPNOTSUPP: a kernel without CONFIG_INET_DIAG_DESTROY).
 */
int sockdiag_destroy(int fd, const struct sockdiag_sock *s);

/* No cookie to check (sockdiag_sock.cookie): the addresses decide. */
#define SOCKDIAG_NOCOOKIE (~0ULL)

/* One socket of a dump, as the kernel's inet_diag_msg and attributes
 * said; every field bounded and checked before it is handed out. */
struct sockdiag_info {
	struct sockdiag_sock s;
	__u64 ino;		/* idiag_inode */
	__u64 cgroup_id;	/* INET_DIAG_CGROUP_ID, 0 if absent */
	__u32 uid;		/* idiag_uid (sk_uid, in our user namespace) */
	__u8 state;		/* idiag_state */
};

/*
 * Dump the sockets of s_protocol (IPPROTO_TCP or IPPROTO_UDP) and family
 * in states (a bit per TCP_* state; a connected UDP socket is
 * TCP_ESTABLISHED) of fd's network namespace; cb gets each one (a nonzero
 * return stops the dump and is returned). 0 or -errno (-EBADMSG: a
 * malformed answer).
 */
int sockdiag_dump(int fd, int protocol, int family, __u32 states,
		  int (*cb)(const struct sockdiag_info *i, void *data),
		  void *data);
/*
 * The one socket with s's addresses (its cookie unchecked), as the kernel
 * knows it now: asking gives the socket a cookie if it had none. 0 and
 * *out, or -errno (-ENOENT: no such socket).
 */
int sockdiag_find(int fd, const struct sockdiag_sock *s,
		  struct sockdiag_info *out);

#endif
