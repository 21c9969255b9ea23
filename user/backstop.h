/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The agent's half of the backstop (bpf/guard.bpf.c, backstop()): the
 * kernel drops a refused SYN; the agent aborts its socket, so that the
 * client's connect() fails at once instead of retrying for minutes.
 */
#ifndef NFSGUARD_BACKSTOP_H
#define NFSGUARD_BACKSTOP_H

#include <linux/types.h>
#include "guard.h"

/*
 * Abort the socket record r names, in its network namespace (reached
 * through its process's, whose inode must be r->e.netns). 0, or -errno after
 * one line saying why the socket could not be aborted.
 */
int backstop_abort(const struct nfsg_egress_event *r);

#endif
