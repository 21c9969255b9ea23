/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The policy the kernel side enforces, as the agent holds it. */
#ifndef NFSGUARD_POLICY_H
#define NFSGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "guard.h"

/* The embedded default: the EFS owner rule, TCP 2049, root only. */
#define POLICY_DEFAULT_PORT 2049
#define POLICY_DEFAULT_PRIV_UID 0

struct policy {
	struct nfsg_portset ports;	/* governed TCP destination ports */
	__u32 priv_uids[NFSG_MAX_PRIV_UIDS]; /* owners allowed to connect */
	__u32 n_priv_uids;
};

void policy_default(struct policy *p);
void policy_add_port(struct policy *p, __u16 port);
bool policy_has_port(const struct policy *p, __u16 port);
/* Returns -ENOSPC when the uid table is full. */
int policy_add_priv_uid(struct policy *p, __u32 uid);
/* "tcp/2049; privileged uids 0" into buf, cut to len. */
void policy_describe(const struct policy *p, char *buf, size_t len);

#endif
