/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Per-policy counters that go on: across reloads, restarts and upgrades a
 * policy keeps its counters by name. The kernel counts per generation
 * and policy index (nfsg_pol_ctrs); before the agent reuses a
 * generation's slots, it adds what they counted to that policy's base in
 * nfsg_pol_base, a hash map by name that user space alone writes, pinned
 * with the rest. A policy's counter is its base plus what both
 * generations count under its name now.
 */
#ifndef NFSGUARD_COUNTERS_H
#define NFSGUARD_COUNTERS_H

#include <linux/types.h>
#include "guard.h"
#include "policy.h"

#define COUNTERS_BASE_NAME "nfsg_pol_base"
#define COUNTERS_BASE_MAX 4096

struct persist;

/* The base by name: a pinned one of this layout, or a new one (pinned
 * when p is given). plan is enum agent_plan. On a rebuild the old
 * programs' per-policy counts are read for counters_carry_pinned. */
int counters_open(int *base_fd, struct persist *p, int plan);
/* Add generation gen's slots of set to the base (pol_ctrs: nfsg_pol_ctrs). */
int counters_fold(int base_fd, int pol_ctrs_fd, const struct policy_set *set,
		  __u32 gen);
/* After a rebuild's switch: the old maps' per-policy counts join the base. */
void counters_carry_pinned(int base_fd, struct persist *p);
/* Policy name's counters (NFSG_PCTR_*), from the base and both
 * generations (sets[g] may be empty where unknown). */
int counters_policy(int base_fd, int pol_ctrs_fd,
		    const struct policy_set sets[NFSG_GENERATIONS],
		    const char *name, __u64 out[NFSG_PCTR_MAX]);

#endif
