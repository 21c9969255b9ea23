/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * guard.h - the ABI between bpf/guard.bpf.c and the agent in user/.
 *
 * Both sides include this one header; nothing here may depend on either
 * side's headers, so only the fixed-width __u8 ... __u64 types are used and
 * every structure is laid out largest member first with padding written out.
 *
 * Semantics of the decision the kernel side takes (cgroup/connect4 and
 * cgroup/connect6, one shared function):
 *
 *   - A connect is *governed* when the socket is a stream socket of protocol
 *     TCP (or MPTCP, which is TCP on the wire) and its destination port is
 *     set in the nfsg_ports bitmap. Every other connect passes untouched.
 *   - An AF_INET6 socket connecting to a v4-mapped address (::ffff:a.b.c.d)
 *     reaches only connect6; the port is decided there just the same.
 *   - The identity of a governed connect is the *socket owner*: sk_uid, the
 *     uid fixed when the socket was created (the creator's fsuid, as seen
 *     from the initial user namespace), as in iptables' owner match. It is
 *     not the calling task's real uid: a setuid-root helper's socket is
 *     root's, a socket made by root and handed to an unprivileged child
 *     stays root's, and a socket made after seteuid(1000) is uid 1000's.
 *   - A governed connect is allowed when the owner uid is a key of the
 *     nfsg_priv_uids map, or when the socket is a kernel socket (the
 *     in-kernel NFS/SUNRPC client connects from a kworker; refusing it
 *     would make sunrpc retry in a busy loop). An MPTCP subflow is a kernel
 *     socket too, but connects for a user's MPTCP socket: it is judged, and
 *     reported, as that MPTCP socket. Otherwise it is refused: the
 *     program returns 0 and the connect(), sendto(MSG_FASTOPEN) or
 *     sendmsg() fails at once with EPERM.
 *   - Each refusal submits one struct nfsg_event on the nfsg_events ring
 *     buffer. A reservation that fails increments NFSG_CTR_EVENTS_DROPPED.
 */
#ifndef NFSGUARD_GUARD_H
#define NFSGUARD_GUARD_H

/* Longest task comm the kernel reports (TASK_COMM_LEN). */
#define NFSG_COMM_LEN 16

/* Destination ports are a bitmap of 65536 bits in 64-bit words. */
#define NFSG_PORT_WORDS (65536 / 64)

/* Capacity of the privileged-uid map. */
#define NFSG_MAX_PRIV_UIDS 1024

/* IANA protocol numbers that count as TCP (vmlinux.h has no macros). */
#define NFSG_PROTO_TCP 6
#define NFSG_PROTO_UDP 17
#define NFSG_PROTO_MPTCP 262

/* Slots of the per-CPU nfsg_counters array. */
enum nfsg_counter {
	NFSG_CTR_PASSED = 0,	/* not governed: wrong protocol or port */
	NFSG_CTR_ALLOWED = 1,	/* governed, privileged owner or kernel socket */
	NFSG_CTR_REFUSED = 2,	/* governed, refused with EPERM */
	NFSG_CTR_EVENTS_DROPPED = 3, /* ring buffer full: event lost */
	NFSG_CTR_MAX = 4,
};

/* What the kernel side decided. */
enum nfsg_verdict {
	NFSG_VERDICT_ALLOW = 1,
	NFSG_VERDICT_REFUSE = 2,
};

/* Value of the single element of the nfsg_ports array map. */
struct nfsg_portset {
	__u64 bits[NFSG_PORT_WORDS];	/* bit (port % 64) of word (port / 64) */
};

/*
 * One record on the nfsg_events ring buffer.
 * Addresses are in network byte order, everything else in host order.
 */
struct nfsg_event {
	__u64 ts_boot_ns;	/* CLOCK_BOOTTIME of the decision */
	__u64 cgroup_id;	/* cgroup2 id of the cgroup the socket was
				 * created in (the one whose programs ran) */
	__u32 pid;		/* calling process (tgid) */
	__u32 tid;		/* calling thread */
	__u32 uid;		/* socket owner: sk_uid, in the initial userns */
	__u32 gid;		/* fsgid of the credentials that created the
				 * socket file; 0 for a socket with no file */
	__u16 family;		/* AF_INET or AF_INET6 (the socket's family) */
	__u16 dport;		/* destination port */
	__u16 protocol;		/* IPPROTO_TCP, IPPROTO_MPTCP, ... */
	__u8 verdict;		/* enum nfsg_verdict */
	__u8 __pad;
	__u8 daddr[16];		/* IPv4: first 4 bytes; IPv6: all 16 */
	char comm[NFSG_COMM_LEN]; /* calling task's comm */
};

#endif /* NFSGUARD_GUARD_H */
