/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The one place a policy set is written into the kernel: fresh inner maps
 * for a generation, then one write to nfsg_gen makes it whole at once.
 */
#ifndef NFSGUARD_POLICY_MAPS_H
#define NFSGUARD_POLICY_MAPS_H

#include "cgroup.h"
#include "guard_prog.h"
#include "policy.h"

/*
 * Build generation gen from s, replacing whatever that slot held. With
 * pin_dir, its maps are pinned there too, as NAME_GEN.
 */
int policy_maps_build(struct guard *g, const struct policy_set *s,
		      struct cgroup2 *cg, __u32 gen, const char *pin_dir);
/*
 * Make gen, built from s, the active generation. The port filter stays a
 * superset of the old and the new ports while it switches.
 */
int policy_maps_activate(struct guard *g, const struct policy_set *s,
			 __u32 gen);
/* The policies (names and rules, not cgroups) of generation gen pinned in
 * pin_dir, as an earlier agent left them. */
int policy_maps_read_pinned(const char *pin_dir, __u32 gen,
			    struct policy_set *out);
/*
 * Once gen, built from s, is active: name again the cgroups of s that
 * exist now. One made between the build's naming and the switch, which
 * the mkdir watcher could not name in gen (no memory), is named here; its
 * event carried the generation before. Then the active word moves on
 * (guard_set_gen): the hooks' cached indexes may predate the names.
 */
int policy_maps_rename(struct guard *g, const struct policy_set *s,
		       struct cgroup2 *cg, __u32 gen);
/*
 * After a cgroup event: make sure cgroup id, made at path (from the cgroup2
 * root) and named by policy idx, is in generation gen's cgroups map, as
 * the mkdir watcher should have put it. Returns 0 if it was there or is
 * gone again, 1 if it had to be named here (and the active word moved
 * on), or -errno after logging why.
 */
int policy_maps_name_cgroup(struct guard *g, struct cgroup2 *cg, __u32 gen,
			    __u64 id, __u32 idx, const char *path);
/* Fill ps with the ports s governs (modes other than off). */
void policy_maps_ports(const struct policy_set *s, struct nfsg_portset *ps);

#endif
