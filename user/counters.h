/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Per-policy counters that go on: across reloads, restarts and upgrades a
 * policy keeps its counters by name. The kernel counts per generation,
 * policy index and family (nfsg_pol_ctrs, NFSG_PCTR_SLOT()); before the
 * agent reuses a generation's slots, it adds what they counted to that
 * policy's base in nfsg_pol_base, a hash map by name that user space
 * alone writes, pinned with the rest. A policy's counter is its base plus
 * what both generations count under its name now.
 *
 * Builds before ABI 3 counted no family: what they counted is carried, at
 * an upgrade, into the family COUNTERS_FAM_UNKNOWN, so that no policy's
 * counter ever goes back.
 */
#ifndef NFSGUARD_COUNTERS_H
#define NFSGUARD_COUNTERS_H

#include <stdbool.h>
#include <linux/types.h>
#include "guard.h"
#include "policy.h"

#define COUNTERS_BASE_NAME "nfsg_pol_base"
#define COUNTERS_BASE_MAX 4096

/* The kernel's families (enum nfsg_counter_family), then the unknown. */
#define COUNTERS_FAM_UNKNOWN NFSG_FAM_MAX
#define COUNTERS_FAMILIES (NFSG_FAM_MAX + 1)

/* One policy's counters, by family and verdict (NFSG_PCTR_*); the value
 * of nfsg_pol_base. */
struct policy_counts {
	__u64 v[COUNTERS_FAMILIES][NFSG_PCTR_MAX];
};

struct persist;

/* "inet", "inet6" or "unknown", as metrics and status name family fam
 * (events name theirs the same way). */
const char *counters_family_name(int fam);
/* Verdict c (NFSG_PCTR_*) over every family. */
__u64 counters_total_of(const struct policy_counts *pc, int c);
/* Is family fam shown: the kernel's always, the unknown where an upgrade
 * carried counts into it. */
bool counters_family_shown(const struct policy_counts *pc, int fam);

/* The base by name: a pinned one of this layout (one of the layout before
 * ABI 3 is carried into a new one), or a new one (pinned when p is
 * given). plan is enum agent_plan. On a rebuild the old programs'
 * per-policy counts are read for counters_carry_pinned. */
int counters_open(int *base_fd, struct persist *p, int plan);
/* Add generation gen's slots of set to the base (pol_ctrs: nfsg_pol_ctrs). */
int counters_fold(int base_fd, int pol_ctrs_fd, const struct policy_set *set,
		  __u32 gen);
/* After a rebuild's switch: the old maps' per-policy counts join the base. */
void counters_carry_pinned(int base_fd, struct persist *p);
/* Policy name's counters, from the base and both generations (sets[g]
 * may be empty where unknown); pol_ctrs may be of either layout. */
int counters_policy(int base_fd, int pol_ctrs_fd,
		    const struct policy_set sets[NFSG_GENERATIONS],
		    const char *name, struct policy_counts *out);

#endif
