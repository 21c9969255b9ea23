/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* cgroup2: find the mount, open a cgroup, and map ids back to paths. */
#ifndef NFSGUARD_CGROUP_H
#define NFSGUARD_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <linux/types.h>

#define CGROUP_CACHE_SLOTS 256

struct cgroup_cache_slot {
	__u64 id;
	char path[PATH_MAX];
};

/* What the agent knows of the cgroup2 hierarchy. */
struct cgroup2 {
	char mount[PATH_MAX];	/* where cgroup2 is mounted */
	int mount_fd;		/* O_DIRECTORY fd of the mount, or -1 */
	/* id -> path, direct-mapped: a flood from one cgroup resolves once */
	struct cgroup_cache_slot cache[CGROUP_CACHE_SLOTS];
};

/*
 * Find the cgroup2 mount in /proc/mounts (hybrid or unified layout) and
 * open it. Returns 0, -ENOENT when none is mounted, or another -errno.
 */
int cgroup2_open(struct cgroup2 *cg);
void cgroup2_close(struct cgroup2 *cg);

/*
 * Open the cgroup at path, either a full path under the cgroup2 mount or
 * one relative to it ("/system.slice" and "system.slice" alike), and
 * return its directory fd and id. The id's path goes in the cache.
 * Returns -ENOENT (no such directory), -ENOTDIR, -EXDEV (not on the cgroup2
 * mount) or another -errno.
 */
int cgroup_open(struct cgroup2 *cg, const char *path, int *fd, __u64 *id);

/*
 * The path of cgroup id relative to the cgroup2 mount ("/" for its root),
 * or "?" when the cgroup is gone. The result lives in the cache.
 */
const char *cgroup_path(struct cgroup2 *cg, __u64 id);

#endif
