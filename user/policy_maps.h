/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The one place a policy set is written into the kernel: fresh inner maps
 * for a generation, then one switch of active_gen makes it whole at once.
 */
#ifndef NFSGUARD_POLICY_MAPS_H
#define NFSGUARD_POLICY_MAPS_H

#include "cgroup.h"
#include "guard_prog.h"
#include "policy.h"

/* Build generation gen from s, replacing whatever that slot held. */
int policy_maps_build(struct guard *g, const struct policy_set *s,
		      struct cgroup2 *cg, __u32 gen);
/*
 * Make gen the active generation. old is the set active until now (NULL
 * at start): the port filter stays a superset of both during the switch.
 */
int policy_maps_activate(struct guard *g, const struct policy_set *old,
			 const struct policy_set *s, __u32 gen);
/* Fill ps with the ports s governs (modes other than off). */
void policy_maps_ports(const struct policy_set *s, struct nfsg_portset *ps);

#endif
