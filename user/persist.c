// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "discover.h"
#include "log.h"
#include "persist.h"

/* Pinned names: "link_<hook>" and the maps' own names. */
static const char *const hook_pins[GUARD_HOOKS] = {
	[GUARD_CONNECT4] = "link_connect4",
	[GUARD_CONNECT6] = "link_connect6",
	[GUARD_SENDMSG4] = "link_sendmsg4",
	[GUARD_SENDMSG6] = "link_sendmsg6",
};
#define MKDIR_PIN "link_cg_mkdir"
#define RMDIR_PIN "link_cg_rmdir"

static void pin_path(const struct persist *p, const char *name, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/%s", p->dir, name);
}

static bool on_bpffs(const char *path)
{
	struct statfs s;

	return !statfs(path, &s) && s.f_type == BPF_FS_MAGIC;
}

/* The maps that are pinned: all but libbpf's own (.rodata). */
static bool pinned_map(const struct bpf_map *m)
{
	return !bpf_map__is_internal(m);
}

static int ensure_bpffs(const char *dir)
{
	char parent[PATH_MAX], *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (on_bpffs(parent))
		return 0;
	if (strcmp(parent, PERSIST_BPFFS)) {
		log_err("%s is not on a bpffs: pick a directory under a mounted bpffs, such as %s",
			parent, PERSIST_DEFAULT_DIR);
		return -EXDEV;
	}
	if (mount("bpf", PERSIST_BPFFS, "bpf", 0, "mode=0700")) {
		log_err("no bpffs at %s and mounting one failed (%s): mount it with 'mount -t bpf bpf %s'",
			PERSIST_BPFFS, strerror(errno), PERSIST_BPFFS);
		return -errno;
	}
	log_info("mounted bpffs at %s", PERSIST_BPFFS);
	return 0;
}

/* Read what the last agent left: its meta, and where its hooks are. */
static void inspect(struct persist *p)
{
	struct bpf_link_info info;
	char path[PATH_MAX];
	__u32 zero = 0, len;
	int fd;

	pin_path(p, "nfsg_meta", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		p->found = true;
		/* Another version's meta may be larger: read only ours. */
		if (!map_sizes_are(fd, sizeof(zero), sizeof(p->meta)) ||
		    bpf_map_lookup_elem(fd, &zero, &p->meta))
			memset(&p->meta, 0, sizeof(p->meta));
		close(fd);
	}
	pin_path(p, hook_pins[GUARD_CONNECT4], path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		p->found = true;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			p->cgroup_id = info.cgroup.cgroup_id;
		close(fd);
	}
}

int persist_open(struct persist *p, const char *dir)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->lock_fd = -1;
	p->old_counters_fd = -1;
	if (strlen(dir) >= sizeof(p->dir) || dir[0] != '/') {
		log_err("invalid pin directory '%s': give an absolute path of at most %d characters",
			dir, PERSIST_DIR_MAX - 1);
		return -EINVAL;
	}
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	err = ensure_bpffs(p->dir);
	if (err)
		return err;
	if (mkdir(p->dir, 0700) && errno != EEXIST) {
		err = -errno;
		log_err("cannot create %s: %s", p->dir, strerror(-err));
		return err;
	}
	p->lock_fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->lock_fd < 0) {
		err = -errno;
		log_err("cannot open %s: %s", p->dir, strerror(-err));
		return err;
	}
	if (flock(p->lock_fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		log_err("another nfsguard agent is running on %s: stop it first (or use another --pin-dir)",
			p->dir);
		close(p->lock_fd);
		p->lock_fd = -1;
		return err;
	}
	inspect(p);
	return 0;
}

void persist_close(struct persist *p)
{
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	if (p->old_counters_fd >= 0)
		close(p->old_counters_fd);
	p->lock_fd = -1;
	p->old_counters_fd = -1;
}

/* Does the pinned map at path fit m exactly? Returns its fd or -1. */
static int compatible(const char *path, const struct bpf_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != bpf_map__type(m) ||
	    info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m) ||
	    info.max_entries != bpf_map__max_entries(m) ||
	    info.map_flags != bpf_map__map_flags(m)) {
		close(fd);
		return -1;
	}
	return fd;
}

int persist_reuse_maps(struct persist *p, struct guard *g)
{
	struct bpf_map *m;
	char path[PATH_MAX];
	int fd, n = 0, fit = 0, err;
	int fds[32];

	if (!p->found)
		return 0;
	/* All or nothing: a half-adopted state would misread itself. */
	bpf_object__for_each_map(m, g->skel->obj) {
		if (!pinned_map(m) || n >= 32)
			continue;
		pin_path(p, bpf_map__name(m), path, sizeof(path));
		fds[n] = p->meta.abi == NFSG_ABI_VERSION ? compatible(path, m) : -1;
		fit += fds[n] >= 0;
		n++;
	}
	p->adopt = fit == n;
	n = 0;
	bpf_object__for_each_map(m, g->skel->obj) {
		if (!pinned_map(m) || n >= 32)
			continue;
		fd = fds[n++];
		if (fd < 0)
			continue;
		err = p->adopt ? bpf_map__reuse_fd(m, fd) : 0;
		close(fd);
		if (err) {
			log_err("cannot reuse pinned map %s: %s", bpf_map__name(m),
				strerror(-err));
			return err;
		}
	}
	if (p->found && !p->adopt) {
		/* Its totals go into the new counters once the hooks switch. */
		pin_path(p, "nfsg_counters", path, sizeof(path));
		if (p->old_counters_fd >= 0)
			close(p->old_counters_fd);
		p->old_counters_fd = bpf_obj_get(path);
		log_info("pinned state in %s is from another version (ABI %u, this is %u): rebuilding its maps",
			 p->dir, p->meta.abi, NFSG_ABI_VERSION);
	}
	return 0;
}

/*
 * Carry the old counters' totals over as the new counters' base, once the
 * old programs no longer run: after the hooks switched, and a moment for
 * the runs already under way to finish. The live counters stay untouched.
 */
static int carry_counters(struct persist *p, const struct guard *g)
{
	struct timespec settle = { .tv_nsec = 20 * 1000000 };
	struct bpf_map_info info = {};
	struct nfsg_meta meta;
	__u32 len = sizeof(info), slot;
	__u64 old;
	int err;

	if (p->old_counters_fd < 0)
		return 0;
	/* Only a layout we know is read: never misread another version. */
	if (bpf_obj_get_info_by_fd(p->old_counters_fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_PERCPU_ARRAY ||
	    info.value_size != sizeof(__u64) ||
	    info.max_entries < NFSG_CTR_MAX) {
		log_info("the old counters have an unknown layout: counting starts from zero");
		return 0;
	}
	nanosleep(&settle, NULL);
	err = guard_read_meta(g, &meta);
	for (slot = 0; slot < NFSG_CTR_MAX && !err; slot++) {
		err = map_percpu_sum(p->old_counters_fd, slot, &old);
		/* The old maps' own base, where their layout is known. */
		meta.base[slot] += old + (p->meta.abi ? p->meta.base[slot] : 0);
	}
	if (!err)
		err = guard_write_meta(g, &meta);
	if (err)
		log_err("cannot carry the old counters over: %s", strerror(-err));
	close(p->old_counters_fd);
	p->old_counters_fd = -1;
	return err;
}

static int pin_maps(const struct persist *p, const struct guard *g)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, g->skel->obj) {
		if (!pinned_map(m))
			continue;
		pin_path(p, bpf_map__name(m), path, sizeof(path));
		if (p->adopt && !access(path, F_OK))
			continue;	/* the pin is this very map */
		unlink(path);		/* a pin of the old layout */
		err = bpf_map__pin(m, path);
		if (err) {
			log_err("cannot pin map %s at %s: %s", bpf_map__name(m),
				path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Take over a pinned link and point it at prog; NULL if none. */
static struct bpf_link *update_pinned(const char *path, struct bpf_program *prog,
				      int *err)
{
	struct bpf_link *link = bpf_link__open(path);

	*err = 0;
	if (!link)
		return NULL;
	*err = bpf_link__update_program(link, prog);
	if (*err) {
		log_err("cannot switch the pinned hook %s to the new program: %s",
			path, strerror(-*err));
		bpf_link__destroy(link);
		return NULL;
	}
	return link;
}

/* New watchers first, then the old ones go: no cgroup created unseen. */
static int replace_watcher(const struct persist *p, struct bpf_link *fresh,
			   const char *name)
{
	char path[PATH_MAX];
	struct bpf_link *old;
	int err;

	pin_path(p, name, path, sizeof(path));
	old = bpf_link__open(path);
	if (old) {
		bpf_link__unpin(old);
		bpf_link__destroy(old);
	}
	err = bpf_link__pin(fresh, path);
	if (err)
		log_err("cannot pin %s: %s", path, strerror(-err));
	return err;
}

int persist_attach(struct persist *p, struct guard *g, int cgroup_fd,
		   __u64 cgroup_id)
{
	bool pinned[GUARD_HOOKS] = {};
	__u64 counters[NFSG_CTR_MAX];
	char path[PATH_MAX];
	int i, err = 0;

	if (p->cgroup_id && p->cgroup_id != cgroup_id) {
		log_err("the pinned hooks in %s are attached to another cgroup (id %llu): run 'nfsguard uninstall' first",
			p->dir, (unsigned long long)p->cgroup_id);
		return -EBUSY;
	}
	/* The hooks first: switch the pinned ones (atomic: the old program,
	 * then the new one), or attach afresh; nothing is pinned before
	 * every hook runs one of our programs. */
	for (i = 0; i < GUARD_HOOKS && !err; i++) {
		pin_path(p, hook_pins[i], path, sizeof(path));
		g->hooks[i] = update_pinned(path, guard_hook_prog(g, i), &err);
		pinned[i] = g->hooks[i];
		if (err || g->hooks[i])
			continue;
		g->hooks[i] = bpf_program__attach_cgroup(guard_hook_prog(g, i),
							 cgroup_fd);
		if (!g->hooks[i]) {
			err = -errno;
			log_err("cannot attach %s to the cgroup: %s",
				bpf_program__section_name(guard_hook_prog(g, i)),
				strerror(-err));
		}
	}
	if (!err)
		err = replace_watcher(p, g->mkdir, MKDIR_PIN);
	if (!err)
		err = replace_watcher(p, g->rmdir, RMDIR_PIN);
	/* Our version, in the pins, before our maps are pinned. */
	if (!err)
		err = guard_read_counters(g, counters);
	if (!err)
		err = persist_save_seen(g, counters);
	if (!err)
		err = pin_maps(p, g);
	for (i = 0; i < GUARD_HOOKS && !err; i++) {
		if (pinned[i])
			continue;
		pin_path(p, hook_pins[i], path, sizeof(path));
		err = bpf_link__pin(g->hooks[i], path);
		if (err)
			log_err("cannot pin %s: %s", path, strerror(-err));
		pinned[i] = !err;
	}
	if (!err)
		return carry_counters(p, g);
	/* Fresh hooks this run pinned go again: the agent's exit detaches
	 * them. Switched ones stay: they run our programs, and enforce. */
	for (i = 0; i < GUARD_HOOKS; i++)
		if (g->hooks[i] && pinned[i] && !p->cgroup_id)
			bpf_link__unpin(g->hooks[i]);
	return err;
}

int persist_save_seen(const struct guard *g, const __u64 *counters)
{
	struct nfsg_meta meta;
	int err = guard_read_meta(g, &meta);

	if (err)
		return err;
	meta.seen_refused = counters[NFSG_CTR_REFUSED];
	meta.seen_audited = counters[NFSG_CTR_AUDITED];
	meta.seen_dropped = counters[NFSG_CTR_EVENTS_DROPPED];
	meta.abi = NFSG_ABI_VERSION;
	return guard_write_meta(g, &meta);
}

bool persist_exists(const char *dir)
{
	struct persist p = {};

	if (strlen(dir) >= sizeof(p.dir))
		return false;
	snprintf(p.dir, sizeof(p.dir), "%s", dir);
	if (!on_bpffs(dir))
		return false;
	inspect(&p);
	return p.found;
}

int persist_remove(const char *dir)
{
	char path[PATH_MAX + 256];
	struct dirent *d;
	DIR *dh;
	int n = 0, err = 0;

	if (on_bpffs(dir) && !strcmp(dir, PERSIST_BPFFS)) {
		log_err("%s is the bpffs root, not a pin directory of nfsguard's",
			dir);
		return -EINVAL;
	}
	dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dh))) {
		/* Only what nfsguard pins: links and maps of its own names. */
		if (strncmp(d->d_name, "link_", 5) &&
		    strncmp(d->d_name, "nfsg_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (unlink(path)) {
			err = -errno;
			log_err("cannot remove %s: %s", path, strerror(-err));
			continue;
		}
		printf("removed %s\n", path);
		n++;
	}
	closedir(dh);
	if (!err && rmdir(dir)) {
		err = -errno;
		log_err("cannot remove %s: %s", dir, strerror(-err));
	}
	return err ? err : n;
}
