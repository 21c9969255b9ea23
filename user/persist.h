/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Enforcement that outlives the agent: links and maps pinned in a bpffs
 * directory. A new agent adopts what an agent of its ABI version pinned
 * (same maps, links switched to its programs with bpf_link_update, so no
 * connect goes unchecked and no hook holds two copies); pinned state of
 * another version or layout is rebuilt, its counters carried over.
 */
#ifndef NFSGUARD_PERSIST_H
#define NFSGUARD_PERSIST_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>
#include "guard.h"
#include "guard_prog.h"

#define PERSIST_BPFFS "/sys/fs/bpf"
#define PERSIST_DEFAULT_DIR PERSIST_BPFFS "/nfsguard"
/* Longest pin directory, so that every pin path fits in PATH_MAX. */
#define PERSIST_DIR_MAX 512

struct persist {
	char dir[PERSIST_DIR_MAX];
	int lock_fd;		/* flock on dir: one agent at a time */
	bool found;		/* something was pinned there */
	bool adopt;		/* ... and its maps are ours to reuse */
	__u64 cgroup_id;	/* where the pinned hooks are attached */
	struct nfsg_meta meta;	/* as the last agent left it */
	int old_counters_fd;	/* of pinned maps we rebuild, or -1 */
};

/*
 * Mount bpffs if needed (and say so), create and lock dir, and look at
 * what is pinned there. Returns 0 or -errno after printing why.
 */
int persist_open(struct persist *p, const char *dir);
void persist_close(struct persist *p);
/* Before load: reuse the pinned maps when they are ours. */
int persist_reuse_maps(struct persist *p, struct guard *g);
/*
 * After load: switch pinned hooks to the new programs, or attach and pin
 * them; replace the cgroup watchers; pin every map. Fails if the pinned
 * hooks are attached to another cgroup than cgroup_id.
 */
int persist_attach(struct persist *p, struct guard *g, int cgroup_fd,
		   __u64 cgroup_id);
/* Record what the agent has reported, for the next one. */
int persist_save_seen(const struct guard *g, const __u64 *counters);
/* Is anything pinned in dir? */
bool persist_exists(const char *dir);
/*
 * Remove every pin in dir; print each. Links go with their last pin (or
 * when the agent holding them exits). Returns the number removed or -errno.
 */
int persist_remove(const char *dir);

#endif
