/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The sock_diag path's judge of an existing socket (user/sockets.h): the
 * semantics of the kernel's judge() (include/guard.h) on what a dump and
 * /proc tell, against a policy set. Pure: no kernel, no agent.
 */
#ifndef NFSGUARD_SOCKJUDGE_H
#define NFSGUARD_SOCKJUDGE_H

#include <stdbool.h>
#include <linux/types.h>
#include "guard.h"
#include "policy.h"

/* What is known of one socket besides its record. */
struct sockjudge_facts {
	const char *cgroup;	/* its cgroup's path ("/a/b"), "?" if unknown */
	const char *root;	/* the attach point's path, "" for the root */
	bool held;		/* some process holds it */
	__u32 holder_gid;	/* the gid of its inode, read through a holder */
};

/*
 * Judge r (uid, family, daddr, dport and protocol filled) by set:
 *   - outside the attach point (or of an unresolvable path, when the
 *     attach point is not the root): not governed;
 *   - the policy: the one named for the cgroup or its nearest ancestor,
 *     else the default (every socket's, if the default is the only one);
 *   - governed: mode not off, the protocol governed, the port in the
 *     policy's ports, or in its local ports to a loopback destination;
 *   - the owner: r->uid is sk_uid; the gid is the holder's inode's, or
 *     NFSG_ID_UNKNOWN (never privileged) when nobody holds it;
 *   - a kernel socket: a uid-0 socket nobody holds passes, as judge()
 *     passes the kernel's own;
 *   - allowed if privileged and in the allow-list (if any), else refused
 *     or audited by the mode, with the reason.
 * Sets r->verdict (0: not governed), reason, policy and gid.
 */
void sockjudge(const struct policy_set *set, const struct sockjudge_facts *f,
	       struct nfsg_sock_record *r);

/* Does some policy of set govern port (host order) for govern
 * (NFSG_GOVERN_TCP or _UDP), as a port or a local port? */
bool sockjudge_port(const struct policy_set *set, __u8 govern, __u16 port);
/* Does some policy of set govern UDP at all? */
bool sockjudge_udp(const struct policy_set *set);

#endif
