/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Existing connections: every TCP socket, and every connected UDP socket
 * where some policy governs UDP, to a governed port, in every network
 * namespace the agent can enter, judged by the policy in force, and
 * aborted where asked (include/guard.h, "Existing connections").
 *
 * Listing, chosen once by probe_plan (user/probe.c):
 *   iterator   the guard object's iter/tcp and iter/udp programs judge
 *              each socket with judge(), the hooks' own decision on the
 *              same maps; one walk per network namespace, opened after
 *              setns() into it (an iterator walks the namespace it was
 *              opened in);
 *   sock_diag  where no iterator loads: a sock_diag dump per namespace
 *              (idiag_uid, INET_DIAG_CGROUP_ID), judged here by the same
 *              semantics on the same policy set (user/sockjudge.h).
 * Aborting: bpf_sock_destroy() inside the walk (Linux 6.5), else
 * SOCK_DESTROY through sock_diag in the socket's namespace, always by the
 * socket's cookie. Only refused sockets (mode enforce) are ever aborted:
 * never an allowed or audited one, never a kernel socket (judge() passes
 * them), never one in a namespace that was not entered.
 *
 * Namespaces: the agent's own, every /proc/PID/ns/net and every
 * /run/netns entry, each once (by inode). Entering another needs
 * CAP_SYS_ADMIN; without it only the agent's own is walked, and the
 * result says how many were skipped.
 */
#ifndef NFSGUARD_SOCKETS_H
#define NFSGUARD_SOCKETS_H

#include <stdbool.h>
#include <linux/types.h>
#include "guard.h"

struct nfsg_agent;

/* What one scan found and did. */
struct sockets_result {
	__u32 netns;		/* namespaces walked */
	__u32 netns_skipped;	/* ... that could not be entered */
	__u32 found;		/* governed sockets */
	__u32 violating;	/* refused or audited by the policy today */
	__u32 destroyed;
	__u32 failed;		/* abort asked, and it failed */
	int enter_err;		/* why a namespace could not be entered */
	__u64 walk_ns;		/* the walk took, in all (CLOCK_MONOTONIC) */
	__u64 holders_ns;	/* ... of it, finding the holders in /proc */
};

/* One socket, with what its ids resolve to. */
struct sockets_entry {
	const struct nfsg_existing_event *ev;
	const char *cgroup;	/* path, "?" if unknown */
	const char *policy;	/* name, "?" if unknown */
	const char *comm;	/* of the first holder, "" if none */
};

typedef void (*sockets_fn)(void *ctx, const struct sockets_entry *s);

/*
 * A walk runs in a thread of its own, so that the agent's loop (events,
 * the control socket, metrics) goes on meanwhile. It reads the agent's
 * active policy set and holds a->walk_lock all along: whoever changes the
 * set (agent_reload) takes the lock first. Every socket it finds is
 * judged and, as mode asks, aborted in the thread; events are the loop's.
 */
struct sockets_job;
/* Start a walk: 0 and *job, or -errno after saying why. */
int sockets_start(struct nfsg_agent *a, enum nfsg_iter_destroy mode,
		  struct sockets_job **job);
/* Readable (an eventfd) once the walk has ended. */
int sockets_job_fd(const struct sockets_job *job);
/*
 * Wait for the walk's end, hand every governed socket to fn (if the walk
 * succeeded; fn may be NULL), fill res, and release the job. Returns the
 * walk's 0 or -errno (a namespace that cannot be entered is not an error:
 * it is counted); -EAGAIN for a NULL job, a walk that could not start.
 */
int sockets_finish(struct sockets_job *job, sockets_fn fn, void *ctx,
		   struct sockets_result *res);

#endif
