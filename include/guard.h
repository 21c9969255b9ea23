/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * guard.h - the ABI between bpf/guard.bpf.c and the agent in user/.
 *
 * Both sides include this one header; nothing here may depend on either
 * side's headers, so only the fixed-width __u8 ... __u64 types are used and
 * every structure is laid out largest member first with padding written out.
 *
 * Semantics of the decision the kernel side takes (cgroup/connect4,
 * cgroup/connect6, cgroup/sendmsg4 and cgroup/sendmsg6, one function):
 *
 *   - The *policy* of a socket is the one named for the cgroup the socket
 *     was created in (the cgroup whose programs the kernel runs), or else
 *     for its nearest ancestor, or else the default policy (index 0). Only
 *     ancestors up to NFSG_MAX_DEPTH levels below the root can carry a
 *     policy, so a deeper cgroup still finds its governing ancestor.
 *   - A connect or sendmsg is *governed* when its policy's mode is not off,
 *     its protocol is one the policy governs (TCP, which includes MPTCP; or
 *     UDP, through connect and sendmsg), and its destination port is in the
 *     policy's port ranges, or in its local port ranges and the
 *     destination is a loopback address (127.0.0.0/8, ::1, or v4-mapped
 *     127.0.0.0/8): the ports where the TLS relays of EFS mounts listen.
 *     Everything else passes untouched. A port no policy governs, in
 *     either way, passes after one bitmap test (nfsg_ports).
 *   - An AF_INET6 socket sending to a v4-mapped address (::ffff:a.b.c.d) is
 *     decided the same way, and matches IPv4 CIDRs of the allow-list.
 *   - The identity is the *socket owner*: sk_uid, the uid fixed when the
 *     socket was created (the creator's fsuid, as seen from the initial
 *     user namespace), as in iptables' owner match; and the gid of the
 *     socket's inode, which sock_alloc() sets from the creator's fsgid at
 *     the same moment (so a kernel socket made for a user, which has an
 *     inode but no file, has its maker's gid too). It is not the calling
 *     task's real uid: a setuid-root helper's socket is root's, a socket
 *     made by root and handed to an unprivileged child stays root's, and a
 *     socket made after seteuid(1000) is uid 1000's.
 *   - An identity fact that cannot be read for certain (a NULL socket or
 *     inode on the way, a failed probed read) reads as NFSG_ID_UNKNOWN,
 *     which no privileged range matches; a socket whose kernel-made flag
 *     cannot be read is judged as a user's.
 *   - The address family: the hook's own (AF_INET at connect4/sendmsg4,
 *     AF_INET6 at connect6/sendmsg6) is decided; so is AF_UNSPEC, which
 *     udp_sendmsg() takes as AF_INET (at connect, AF_UNSPEC disconnects
 *     before any hook runs). Any other family passes, because the kernel
 *     refuses it after the hook: tcp_v4_connect() and
 *     __ip4_datagram_connect() return EAFNOSUPPORT for anything but
 *     AF_INET, tcp_v6_connect() and __ip6_datagram_connect() for anything
 *     but AF_INET6 (an AF_INET address on a UDPv6 socket is sent to the
 *     connect4/sendmsg4 hooks instead), udpv6_sendmsg() returns EINVAL.
 *     TCP fast open (sendto with MSG_FASTOPEN, io_uring's send with it)
 *     goes through __inet_stream_connect() and so the connect hooks.
 *   - The backstop (cgroup_skb/egress, the same decision): a TCP SYN on
 *     its way out, which is after nat/OUTPUT and after any other cgroup
 *     program rewrote the connect's address, is judged again on the
 *     destination it really goes to (read from its headers; the socket's
 *     own when they cannot be read for certain). A refused SYN is dropped
 *     and reported once per socket (struct nfsg_egress_event), and the
 *     agent aborts the socket; an audited one is reported only if its
 *     destination differs from the socket's. A policy with backstop = off
 *     (NFSG_POLICY_NO_BACKSTOP) is not judged there. Other packets pass
 *     after two loads and a test of the socket's state. UDP datagrams
 *     are judged only at their hooks.
 *   - A governed attempt is allowed when the owner is privileged (its uid
 *     or gid falls in the policy's ranges) and, if the policy has an
 *     allow-list, the destination is in it. The kernel's own sockets (kernel
 *     sockets owned by uid 0) are always allowed: the in-kernel NFS/SUNRPC
 *     client connects from a kworker, and refusing it would make sunrpc
 *     retry in a busy loop. A kernel socket made at a user's request (SMC's
 *     TCP socket) carries that user's uid and is judged like any other; an
 *     MPTCP subflow is judged, and reported, as the MPTCP socket it serves.
 *   - Otherwise it is refused (mode enforce: the program returns 0 and the
 *     syscall fails at once with EPERM) or audited (mode audit: allowed,
 *     and reported as what enforce would refuse).
 *   - Each refusal or audit submits one struct nfsg_event on nfsg_events;
 *     a reservation that fails increments NFSG_CTR_EVENTS_DROPPED.
 *
 * Atomic policy: every map that describes a policy set (cgroups, policies,
 * paths, destinations, per-policy counters) is an inner map of a two-slot
 * outer map, one slot per generation. A decision reads active_gen once and
 * uses that generation's maps only, so it sees one whole policy set. The
 * nfsg_ports bitmap is only a filter: it is kept a superset of the active
 * generation's ports while the agent switches.
 */
#ifndef NFSGUARD_GUARD_H
#define NFSGUARD_GUARD_H


/* Longest task comm the kernel reports (TASK_COMM_LEN). */
#define NFSG_COMM_LEN 16
/* Destination ports are a bitmap of 65536 bits in 64-bit words. */
#define NFSG_PORT_WORDS (65536 / 64)
/* Ranges of ports, uids or gids one policy may list. */
#define NFSG_MAX_RANGES 16
/* Ranges of local ports (loopback destinations only) one policy may list. */
#define NFSG_MAX_LOCAL_RANGES 4
/* A policy's name, NUL included. */
#define NFSG_NAME_LEN 32
/* A cgroup path relative to the cgroup2 mount, NUL included. */
#define NFSG_PATH_LEN 256
/* Deepest cgroup level a policy may be named for (the root is level 0). */
#define NFSG_MAX_DEPTH 32
/* Policies in one generation, the default (index 0) included. */
#define NFSG_MAX_POLICIES 1024
/* Generations: the active one and the one being built. */
#define NFSG_GENERATIONS 2

/*
 * Version of everything below as kept in pinned maps. An agent adopts
 * pinned maps only of its own version; see user/persist.c. 3: per-policy
 * counters by family, events carry their socket's network namespace, and
 * the hashes inside the policy maps are not preallocated
 * (BPF_F_NO_PREALLOC). 4: nfsg_gen is a mapped 64-bit word that counts
 * on past the generations, as the tag of the cgroup cache.
 */
#define NFSG_ABI_VERSION 4

/* An owner's uid or gid that could not be read for certain (the kernel's
 * INVALID_UID): never privileged, whatever a policy lists. */
#define NFSG_ID_UNKNOWN 0xffffffffU

/* IANA protocol numbers (vmlinux.h has no macros). */
#define NFSG_PROTO_TCP 6
#define NFSG_PROTO_UDP 17
#define NFSG_PROTO_MPTCP 262

/* Slots of the global per-CPU nfsg_counters array: exact, all policies. */
enum nfsg_counter {
	NFSG_CTR_PASSED = 0,	/* to a governed port, yet not governed here
				 * (mode off, protocol, ports, kernel socket);
				 * ports no policy governs are not counted */
	NFSG_CTR_ALLOWED = 1,	/* governed and allowed */
	NFSG_CTR_REFUSED = 2,	/* governed and refused with EPERM */
	NFSG_CTR_AUDITED = 3,	/* would be refused; allowed in audit mode */
	NFSG_CTR_EVENTS_DROPPED = 4, /* ring buffer full: event lost */
	NFSG_CTR_MAX = 5,
};

/* Per-policy counters (nfsg_pol_ctrs), by verdict... */
enum nfsg_policy_counter {
	NFSG_PCTR_ALLOWED = 0,
	NFSG_PCTR_REFUSED = 1,
	NFSG_PCTR_AUDITED = 2,
	NFSG_PCTR_MAX = 3,
};

/* ...and by address family: the hook's. connect4 and sendmsg4 count as
 * IPv4; connect6 and sendmsg6 as IPv6, v4-mapped destinations included;
 * the backstop as its socket's family, the one whose hook saw the
 * connect. */
enum nfsg_counter_family {
	NFSG_FAM_IPV4 = 0,
	NFSG_FAM_IPV6 = 1,
	NFSG_FAM_MAX = 2,
};

/* The one formula of an nfsg_pol_ctrs slot, for both sides; a
 * generation's policies 0..n-1 take the slots from
 * NFSG_PCTR_SLOT(gen, 0, 0, 0) to NFSG_PCTR_SLOT(gen, n, 0, 0). */
#define NFSG_PCTR_SLOT(gen, policy, fam, counter)                        \
	((((gen) * NFSG_MAX_POLICIES + (policy)) * NFSG_FAM_MAX + (fam)) *  \
		 NFSG_PCTR_MAX + (counter))
#define NFSG_PCTR_SLOTS NFSG_PCTR_SLOT(NFSG_GENERATIONS, 0, 0, 0)

enum nfsg_mode {
	NFSG_MODE_OFF = 0,
	NFSG_MODE_AUDIT = 1,
	NFSG_MODE_ENFORCE = 2,
};

/* Bits of nfsg_policy.protocols. */
#define NFSG_GOVERN_TCP 0x1
#define NFSG_GOVERN_UDP 0x2

/* Bits of nfsg_policy.flags. */
#define NFSG_POLICY_ALLOWLIST 0x1 /* destinations limited by nfsg_dests */
#define NFSG_POLICY_SOLE 0x2	/* (default) no cgroup is named at all */
#define NFSG_POLICY_NO_BACKSTOP 0x4 /* backstop = off: SYNs not judged again */
#define NFSG_POLICY_DESTROY_EXISTING 0x8 /* existing = destroy: a connection
					  * found refused is aborted */

/* Why an attempt was refused (or audited): nfsg_event.reason. */
enum nfsg_reason {
	NFSG_REASON_NONE = 0,		/* allowed */
	NFSG_REASON_OWNER = 1,		/* the owner's uid and gid are not
					 * privileged (or could not be read) */
	NFSG_REASON_DESTINATION = 2,	/* a privileged owner, but the
					 * destination is not in the allow-list */
};

/* What the kernel side decided. */
enum nfsg_verdict {
	NFSG_VERDICT_ALLOW = 1,
	NFSG_VERDICT_REFUSE = 2,
	NFSG_VERDICT_AUDIT = 3,	/* enforce would refuse; allowed */
};

enum nfsg_event_kind {
	NFSG_EV_CONNECT = 1,	/* a governed connect or sendmsg */
	NFSG_EV_CGROUP_ADDED = 2,	/* a cgroup a policy names was created */
	NFSG_EV_CGROUP_REMOVED = 3,	/* a cgroup that had a policy is gone */
	/* Tracing (struct nfsg_trace_event): how an allowed connect ended. */
	NFSG_EV_ESTABLISHED = 4,	/* duration: connect latency */
	NFSG_EV_RESET = 5,		/* the peer answered with a reset */
	NFSG_EV_TIMEOUT = 6,		/* no answer: SYN retries ran out */
	NFSG_EV_FAILED = 7,		/* another error; error holds it */
	NFSG_EV_CLOSED = 8,		/* duration: lifetime; byte counts */
	/* The backstop (struct nfsg_egress_event): a SYN judged on its way
	 * out, after NAT and any other program's rewrite; refused (dropped,
	 * and the agent aborts the socket) or audited. */
	NFSG_EV_EGRESS = 9,
	/* A connection that was there before the policy that forbids it
	 * (struct nfsg_existing_event, made by the agent from a struct
	 * nfsg_sock_record): found at start, reload or upgrade. */
	NFSG_EV_EXISTING = 10,
};

/* An inclusive range [lo, hi] of ports, uids or gids. */
struct nfsg_range {
	__u32 lo;
	__u32 hi;
};

/* Value of nfsg_policies: one policy of one generation. */
struct nfsg_policy {
	struct nfsg_range ports[NFSG_MAX_RANGES];
	struct nfsg_range uids[NFSG_MAX_RANGES];	/* privileged owners */
	struct nfsg_range gids[NFSG_MAX_RANGES];	/* privileged groups */
	/* Governed only to loopback destinations (127.0.0.0/8, ::1 and
	 * ::ffff:127.0.0.0/104): the local TLS relays of EFS mounts. */
	struct nfsg_range lports[NFSG_MAX_LOCAL_RANGES];
	char name[NFSG_NAME_LEN];
	__u8 n_ports;
	__u8 n_uids;
	__u8 n_gids;
	__u8 mode;		/* enum nfsg_mode */
	__u8 protocols;		/* NFSG_GOVERN_* */
	__u8 flags;		/* NFSG_POLICY_* */
	__u8 n_lports;
	__u8 __pad;
};

/*
 * Value of nfsg_gen (a BPF_F_MMAPABLE array), written by the agent only,
 * with one release store through its mapping. Its low bits (mod
 * NFSG_GENERATIONS) are the generation decisions use; the whole word is
 * the tag of the hooks' cgroup cache (bpf/policy.h). The agent moves it
 * on at every change: by one to the next generation, by NFSG_GENERATIONS
 * when it changes the active generation's cgroups in place.
 */
struct nfsg_gen {
	__u64 active;
};

/*
 * Value of nfsg_meta: the agents' own bookkeeping, kept with the pinned
 * maps so that a new agent knows what it adopts. Never read by programs.
 */
struct nfsg_meta {
	__u64 base[NFSG_CTR_MAX]; /* totals of rebuilt counter maps: every
				   * reader adds them to nfsg_counters */
	__u64 seen_refused;	/* counters the last agent reported */
	__u64 seen_audited;
	__u64 seen_dropped;
	__u32 abi;		/* NFSG_ABI_VERSION that made the maps */
	__u32 __pad;
};

/* Value of nfsg_ports: any policy's governed ports, per protocol. */
struct nfsg_portset {
	__u64 tcp[NFSG_PORT_WORDS];	/* bit (port % 64) of word (port / 64) */
	__u64 udp[NFSG_PORT_WORDS];
};

/* Key of nfsg_paths: a cgroup path, NUL-padded ("/kubepods.slice"). */
struct nfsg_path_key {
	char path[NFSG_PATH_LEN];
};

/*
 * Key of nfsg_dests, an LPM trie: prefixlen counts the policy's 32 bits
 * and then address bits. IPv4 is stored v4-mapped (::ffff:a.b.c.d).
 */
struct nfsg_dest_key {
	__u32 prefixlen;
	__u32 policy;		/* big-endian, so it sorts as a prefix */
	__u8 addr[16];
};

/*
 * One record on the nfsg_events ring buffer.
 * Addresses are in network byte order, everything else in host order.
 */
struct nfsg_event {
	__u64 ts_boot_ns;	/* CLOCK_BOOTTIME of the decision */
	__u64 cgroup_id;	/* cgroup2 id of the socket's cgroup; for a
				 * cgroup event, the cgroup's */
	__u32 pid;		/* calling process (tgid) */
	__u32 tid;		/* calling thread */
	__u32 uid;		/* socket owner: sk_uid, in the initial userns */
	__u32 gid;		/* fsgid of the credentials that created the
				 * socket file; 0 for a socket with no file */
	__u32 policy;		/* index of the deciding policy in gen */
	__u32 gen;		/* generation the policy index belongs to */
	__u32 netns;		/* inode number of the socket's network
				 * namespace (as ip netns identify and lsns
				 * show it); 0 if unreadable or no socket */
	__u16 family;		/* AF_INET or AF_INET6: the hook's family */
	__u16 dport;		/* destination port */
	__u16 protocol;		/* IPPROTO_TCP, _UDP or _MPTCP */
	__u8 verdict;		/* enum nfsg_verdict */
	__u8 kind;		/* enum nfsg_event_kind */
	__u8 daddr[16];		/* IPv4: first 4 bytes; IPv6: all 16 */
	char comm[NFSG_COMM_LEN]; /* calling task's comm */
	__u32 suppressed;	/* events of the same cgroup and uid the rate
				 * limit held back since the last one sent */
	__u8 reason;		/* enum nfsg_reason: why refused or audited */
	__u8 local;		/* 1: governed as a local port (a TLS relay's) */
	__u8 __pad[6];
};

/*
 * A cgroup event: an nfsg_event of kind NFSG_EV_CGROUP_* followed by the
 * cgroup's path, which may be gone by the time the agent reads it.
 */
struct nfsg_cgroup_event {
	struct nfsg_event e;
	char path[NFSG_PATH_LEN];	/* from the cgroup2 root, NUL-padded */
};

/*
 * A tracing record: how an allowed, governed TCP connect ended, or its
 * close. e holds the attempt (kind NFSG_EV_ESTABLISHED ... _CLOSED, verdict
 * allowed); the socket cookie ties the records of one socket together.
 */
struct nfsg_trace_event {
	struct nfsg_event e;
	__u64 cookie;		/* bpf_get_socket_cookie() of the socket */
	__u64 duration_ns;	/* latency (established), lifetime (closed) */
	__u64 bytes_sent;	/* closed: payload bytes sent */
	__u64 bytes_received;	/* closed: payload bytes received */
	__s32 error;		/* reset, timeout, failed: the errno the client
				 * got; 0: none (closed by its owner first);
				 * NFSG_ERROR_UNKNOWN: not learnt */
	__u32 __pad;
};

/* A trace record's error where the connect may have failed in the call
 * itself and no fexit program saw its return (NFSG_CALL_ERRORS_NONE). */
#define NFSG_ERROR_UNKNOWN (-1)

/*
 * A backstop record: a TCP SYN judged in cgroup_skb/egress, where the
 * destination is the one the packet really goes to, after NAT (a DNAT in
 * nat/OUTPUT) and after any other cgroup program rewrote the connect's
 * address. e holds that final destination; the socket's own view follows,
 * for the agent to find and abort the socket (sock_diag SOCK_DESTROY in
 * the socket's network namespace, e.netns, matched by cookie). Addresses in
 * network order (IPv4: first 4 bytes), ports in host order. One record
 * per socket: the SYN's retransmissions are dropped without one.
 */
struct nfsg_egress_event {
	struct nfsg_event e;
	__u64 cookie;		/* bpf_get_socket_cookie() of the socket */
	__u8 sock_daddr[16];	/* the socket's destination */
	__u8 sock_saddr[16];	/* and source */
	__u16 sock_family;	/* AF_INET or AF_INET6 */
	__u16 sock_dport;
	__u16 sock_sport;
	__u8 __pad[2];
};

/*
 * Existing connections (nfsguard sockets, and the agent at start, reload
 * and upgrade). The iterator programs (iter/tcp and iter/udp, in the
 * guard object, so with its maps) walk the TCP and UDP sockets of the
 * network namespace the iterator was opened in, judge each full TCP
 * socket in SYN_SENT, ESTABLISHED or CLOSE_WAIT, and each connected UDP
 * socket (TCP_ESTABLISHED), whose destination port some policy governs
 * with the same decision as the hooks (the socket's own destination, as
 * its connect or sendmsg hook judged it), and write one record per
 * governed socket to the iterator's seq file. A refused one is aborted
 * there with bpf_sock_destroy() (Linux 6.5) when nfsg_iter_destroy asks
 * for it; else the agent aborts it, by its cookie, with sock_diag's
 * SOCK_DESTROY. An audited one
 * (mode audit) is reported, never aborted. Where no iterator can load,
 * the agent builds the same records from a sock_diag dump (see
 * user/sockjudge.h for how it judges them).
 */
enum nfsg_iter_destroy {
	NFSG_ITER_LIST = 0,		/* judge and list only */
	NFSG_ITER_BY_POLICY = 1,	/* abort where existing = destroy */
	NFSG_ITER_ALL = 2,		/* abort every refused one */
};

/* nfsg_sock_record.destroyed: not tried (any other value: the kfunc's
 * result, 0 or -errno). */
#define NFSG_NOT_DESTROYED 1

struct nfsg_sock_record {
	__u64 cookie;		/* bpf_get_socket_cookie() (Linux 5.12); before,
				 * skc_cookie: 0 if nobody asked for it yet */
	__u64 cgroup_id;	/* cgroup2 id of the socket's cgroup */
	__u64 ino;		/* inode of the socket file (ss's ino); 0: none */
	__u8 saddr[16];		/* network order; IPv4: first 4 bytes */
	__u8 daddr[16];
	__u32 uid;		/* sk_uid, as the decision read it */
	__u32 gid;		/* socket_gid() */
	__u32 policy;		/* index of the deciding policy in gen */
	__u32 gen;
	__u32 netns;		/* inode of its network namespace */
	__s32 destroyed;	/* NFSG_NOT_DESTROYED, or bpf_sock_destroy()'s */
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 sport;		/* host order */
	__u16 dport;
	__u16 protocol;		/* NFSG_PROTO_TCP, _MPTCP or _UDP */
	__u8 state;		/* TCP_ESTABLISHED ... (include/net/tcp_states.h) */
	__u8 verdict;		/* enum nfsg_verdict */
	__u8 reason;		/* enum nfsg_reason */
	__u8 __pad[5];
};

/*
 * The holders of sockets (existing connections), where the kernel has
 * task_file iterators (Linux 5.8): the guard object's iter/task_file
 * program writes one record per socket file a process holds open, for
 * each thread group once (its leader's files table), with no ptrace
 * check: the agent needs no CAP_SYS_PTRACE to name other users'
 * processes. pid is the kernel's (the initial pid namespace's), comm the
 * leader's, as hostile as any comm; gid is the socket inode's.
 */
struct nfsg_file_record {
	__u64 ino;		/* inode of the socket file (ss's ino) */
	__u32 pid;		/* tgid */
	__u32 gid;		/* the inode's i_gid */
	char comm[NFSG_COMM_LEN];
};

/* What the agent did with an existing connection. */
enum nfsg_existing_action {
	NFSG_EXISTING_LISTED = 0,	/* nothing asked: listed only */
	NFSG_EXISTING_REPORTED = 1,	/* reported (existing = report) */
	NFSG_EXISTING_DESTROYED = 2,	/* aborted: its owner sees an error */
	NFSG_EXISTING_FAILED = 3,	/* abort asked, failed: error says why */
};

/* Processes listed as holding one socket. */
#define NFSG_SOCK_PIDS 4

/*
 * A socket as the agent reports it (never written by a program): e holds
 * the owner, the first holder's pid and comm (0 and "" if none is found),
 * the destination, its network namespace and the verdict; the rest says
 * where it is.
 */
struct nfsg_existing_event {
	struct nfsg_event e;
	__u64 cookie;
	__u64 ino;
	__u8 saddr[16];
	__u32 pids[NFSG_SOCK_PIDS];	/* holders, 0-terminated */
	__u32 n_pids;		/* how many hold it (may exceed the list) */
	__s32 error;		/* FAILED: -errno */
	__u16 sport;
	__u8 state;
	__u8 action;		/* enum nfsg_existing_action */
	__u8 __pad[4];
};

/* Bits of the trace filters (filter_on in bpf/trace.h). */
#define NFSG_FILTER_UID 0x1
#define NFSG_FILTER_PID 0x2
#define NFSG_FILTER_COMM 0x4
#define NFSG_FILTER_CGROUP 0x8
#define NFSG_FILTER_PORT 0x10
#define NFSG_FILTER_DADDR 0x20

/*
 * How tracing learns the errno of a connect that fails in the call itself
 * (no route: ENETUNREACH), which no socket state tells (trace_call_errors
 * in bpf/trace.h): at the return of __inet_stream_connect (fexit), or not.
 */
enum nfsg_call_errors {
	NFSG_CALL_ERRORS_NONE = 0,	/* not learnt: NFSG_ERROR_UNKNOWN */
	NFSG_CALL_ERRORS_FEXIT = 1,
};

/* Key and value of the nfsg_ratelimit token buckets. */
struct nfsg_rl_key {
	__u64 cgroup_id;
	__u32 uid;
	__u32 __pad;
};

struct nfsg_rl_bucket {
	__u64 tat;		/* GCRA's theoretical arrival time, ns */
	__u32 suppressed;	/* held back since the last event sent */
	__u32 __pad;
};

#endif /* NFSGUARD_GUARD_H */
