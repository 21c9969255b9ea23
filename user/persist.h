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
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "guard.h"
#include "guard_prog.h"

#define PERSIST_BPFFS "/sys/fs/bpf"
#define PERSIST_DEFAULT_DIR PERSIST_BPFFS "/nfsguard"
/* Longest pin directory, so that every pin path fits in PATH_MAX. */
#define PERSIST_DIR_MAX 512

/*
 * A pin directory, opened once and checked, then used only through its
 * fd. bpffs is mode 1777: whoever owns the directory could remove the
 * pins and end enforcement, or plant entries. So the directory is root's
 * (or the agent's own uid's), a real directory and not a link, on a
 * bpffs and not its root, writable by its owner only, and reached from
 * "/" through directories that only root can change (or sticky ones).
 */
struct pin_dir {
	bool open;
	int fd;			/* the directory: O_DIRECTORY|O_NOFOLLOW */
	int parent_fd;		/* its parent, to remove it */
	char base[NAME_MAX + 1];	/* its name there */
	char at[32];		/* "/proc/self/fd/<fd>": libbpf's paths */
};

/* How pin_dir_open treats a directory that is not there. */
enum pin_dir_mode {
	PIN_DIR_CREATE,		/* make it, 0700 */
	PIN_DIR_EXISTING,	/* -ENOENT, quietly */
	PIN_DIR_QUIET,		/* -ENOENT or any refusal, quietly */
};

/*
 * Open and check path as above. A refusal is one line on stderr naming
 * the cause and the fix (none with PIN_DIR_QUIET); returns 0 or -errno.
 */
int pin_dir_open(struct pin_dir *d, const char *path, enum pin_dir_mode mode);
void pin_dir_close(struct pin_dir *d);
/* "<d->at>/<name>", for libbpf calls that take a path. */
void pin_dir_path(const struct pin_dir *d, const char *name, char *buf,
		  size_t len);

struct persist {
	char dir[PERSIST_DIR_MAX];	/* as given, for messages */
	struct pin_dir pins;	/* flock'd: one agent at a time */
	bool found;		/* something was pinned there */
	bool adopt;		/* ... and its maps are ours to reuse */
	__u64 cgroup_id;	/* where the pinned hooks are attached */
	struct nfsg_meta meta;	/* as the last agent left it */
	int old_counters_fd;	/* of pinned maps we rebuild, or -1 */
};

/*
 * Mount bpffs if needed (and say so), create or check dir (pin_dir_open),
 * lock it, refuse it if it holds an entry nfsguard did not make where it
 * pins (a link, another user's file, a pin of the wrong kind under one of
 * its names), and look at what is pinned there. Returns 0 or -errno after
 * printing why; nothing in dir is changed.
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
/* Is anything of nfsguard's pinned in dir, a directory that passes the checks? */
bool persist_exists(const char *dir);
/*
 * Remove every pin of nfsguard's in d (opened from dir), and d itself if
 * nothing else is left; a line on out for each. Links go with their last pin (or when
 * the agent holding them exits). Entries nfsguard did not make (unknown
 * names, links, other users' files, pins of the wrong kind) are kept and
 * named. Returns the number removed, or -ENOTEMPTY (after removing ours)
 * if something was kept, or another -errno.
 */
int persist_remove(struct pin_dir *d, const char *dir, FILE *out);

#endif
