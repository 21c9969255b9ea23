// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "map_read.h"
#include "log.h"
#include "persist.h"

/* Pinned names: "link_<hook>" and the maps' own names. */
static const char *const hook_pins[GUARD_HOOKS] = {
	[GUARD_CONNECT4] = "link_connect4",
	[GUARD_CONNECT6] = "link_connect6",
	[GUARD_SENDMSG4] = "link_sendmsg4",
	[GUARD_SENDMSG6] = "link_sendmsg6",
	[GUARD_EGRESS] = "link_egress",
};
#define MKDIR_PIN "link_cg_mkdir"
#define RMDIR_PIN "link_cg_rmdir"

static void pin_path(const struct persist *p, const char *name, char *buf,
		     size_t len)
{
	pin_dir_path(&p->pins, name, buf, len);
}

void pin_dir_path(const struct pin_dir *d, const char *name, char *buf,
		  size_t len)
{
	snprintf(buf, len, "%s/%s", d->at, name);
}

static bool on_bpffs(const char *path)
{
	struct statfs s;

	return !statfs(path, &s) && s.f_type == BPF_FS_MAGIC;
}

/* The maps that are pinned: all but libbpf's own (.rodata). */
/* Every map but the internal ones and the cgroup cache, which belongs to
 * its programs: a new agent's start with an empty one (bpf/maps.h). */
static bool pinned_map(const struct bpf_map *m)
{
	return !bpf_map__is_internal(m) &&
	       strcmp(bpf_map__name(m), "nfsg_cg_cache");
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

/* Only root, or the agent's own uid, may own what nfsguard trusts. */
static bool trusted_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

#define REFUSE(mode, ...)                                                   \
	do {                                                                \
		if ((mode) != PIN_DIR_QUIET)                                \
			log_err(__VA_ARGS__);                               \
	} while (0)

/*
 * The next component of path after *cursor into name, or false at the
 * end. Repeated slashes are one; "." and ".." are refused (-EINVAL).
 */
static int next_component(const char **cursor, char *name, size_t len)
{
	const char *s = *cursor, *e;

	s += strspn(s, "/");
	if (!*s)
		return 0;
	e = s + strcspn(s, "/");
	if ((size_t)(e - s) >= len)
		return -ENAMETOOLONG;
	if ((e - s == 1 && s[0] == '.') ||
	    (e - s == 2 && s[0] == '.' && s[1] == '.'))
		return -EINVAL;
	memcpy(name, s, e - s);
	name[e - s] = '\0';
	*cursor = e;
	return 1;
}

/*
 * Walk from "/" to the parent of path's last component, each directory
 * opened without following a link, each one only root can rename
 * entries in: root's and writable by nobody else, or sticky.
 */
static int open_parent(const char *path, enum pin_dir_mode mode,
		       int *parent_fd, char *base)
{
	char name[NAME_MAX + 1], next_name[NAME_MAX + 1];
	const char *cur = path;
	struct stat st;
	int fd, next, more, err = 0;

	*parent_fd = -1;
	more = next_component(&cur, name, sizeof(name));
	if (more <= 0) {
		REFUSE(mode, "invalid pin directory '%s': give an absolute path with no '.' or '..' component",
		       path);
		return more ? more : -EINVAL;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		REFUSE(mode, "cannot open /: %s", strerror(-err));
		return err;
	}
	while ((more = next_component(&cur, next_name, sizeof(next_name))) > 0) {
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
		if (next < 0) {
			err = -errno;
			if (err != -ENOENT || mode == PIN_DIR_CREATE)
				REFUSE(mode, "cannot use pin directory %s: its component '%s' %s: give a path of real directories",
				       path, name,
				       err == -ELOOP || err == -ENOTDIR ? "is a symbolic link or not a directory"
								       : strerror(-err));
			goto fail;
		}
		close(fd);
		fd = next;
		if (fstat(fd, &st)) {
			err = -errno;
			REFUSE(mode, "cannot stat '%s' in %s: %s", name, path,
			       strerror(-err));
			goto fail;
		}
		if (!trusted_uid(st.st_uid) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))) {
			REFUSE(mode, "cannot use pin directory %s: '%s' on its path is owned by uid %u, mode %04o: another user could swap what lies below; pick a directory only root can change",
			       path, name, (unsigned)st.st_uid,
			       (unsigned)(st.st_mode & 07777));
			err = -EPERM;
			goto fail;
		}
		memcpy(name, next_name, sizeof(name));
	}
	if (more < 0) {
		err = more;
		REFUSE(mode, "invalid pin directory '%s': give an absolute path with no '.' or '..' component",
		       path);
		goto fail;
	}
	memcpy(base, name, NAME_MAX + 1);
	*parent_fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

int pin_dir_open(struct pin_dir *d, const char *path, enum pin_dir_mode mode)
{
	struct stat lst, st, pst;
	struct statfs sfs;
	int err;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	err = open_parent(path, mode, &d->parent_fd, d->base);
	if (err)
		return err;
	if (mode == PIN_DIR_CREATE && mkdirat(d->parent_fd, d->base, 0700) &&
	    errno != EEXIST) {
		err = -errno;
		log_err("cannot create %s: %s", path, strerror(-err));
		goto fail;
	}
	if (fstatat(d->parent_fd, d->base, &lst, AT_SYMLINK_NOFOLLOW)) {
		err = -errno;
		if (err != -ENOENT)
			REFUSE(mode, "cannot stat %s: %s", path, strerror(-err));
		goto fail;
	}
	if (S_ISLNK(lst.st_mode) || !S_ISDIR(lst.st_mode)) {
		REFUSE(mode, "refusing pin directory %s: it is %s, which nfsguard never follows: remove it, or give the real directory",
		       path, S_ISLNK(lst.st_mode) ? "a symbolic link" : "not a directory");
		err = -ENOTDIR;
		goto fail;
	}
	d->fd = openat(d->parent_fd, d->base,
		       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0) {
		err = -errno;
		REFUSE(mode, "cannot open %s: %s", path, strerror(-err));
		goto fail;
	}
	if (fstat(d->fd, &st) || fstat(d->parent_fd, &pst) ||
	    fstatfs(d->fd, &sfs)) {
		err = -errno;
		REFUSE(mode, "cannot stat %s: %s", path, strerror(-err));
		goto fail;
	}
	if (st.st_dev != lst.st_dev || st.st_ino != lst.st_ino) {
		REFUSE(mode, "refusing pin directory %s: it was replaced while being opened: find out who is changing it",
		       path);
		err = -EAGAIN;
		goto fail;
	}
	if (sfs.f_type != BPF_FS_MAGIC) {
		REFUSE(mode, "refusing pin directory %s: it is not on a bpffs: pick a directory under a mounted bpffs, such as %s",
		       path, PERSIST_DEFAULT_DIR);
		err = -EXDEV;
		goto fail;
	}
	if (st.st_dev != pst.st_dev) {
		REFUSE(mode, "%s is the bpffs root, not a pin directory of nfsguard's: give a directory under it, such as %s",
		       path, PERSIST_DEFAULT_DIR);
		err = -EINVAL;
		goto fail;
	}
	if (!trusted_uid(st.st_uid)) {
		REFUSE(mode, "refusing pin directory %s: it is owned by uid %u, not root, who could remove the pins and end enforcement: remove it as root (rm -r %s) and start again, or use another --pin-dir",
		       path, (unsigned)st.st_uid, path);
		err = -EPERM;
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		REFUSE(mode, "refusing pin directory %s: it is writable by group or others (mode %04o): chmod 0700 %s, or use another --pin-dir",
		       path, (unsigned)(st.st_mode & 07777), path);
		err = -EPERM;
		goto fail;
	}
	snprintf(d->at, sizeof(d->at), "/proc/self/fd/%d", d->fd);
	d->open = true;
	return 0;
fail:
	if (d->fd >= 0)
		close(d->fd);
	if (d->parent_fd >= 0)
		close(d->parent_fd);
	d->fd = d->parent_fd = -1;
	return err;
}

void pin_dir_close(struct pin_dir *d)
{
	if (!d->open)
		return;
	close(d->fd);
	close(d->parent_fd);
	d->fd = d->parent_fd = -1;
	d->open = false;
}

enum pin_kind {
	PIN_FOREIGN,		/* not a name nfsguard pins under */
	PIN_LINK,
	PIN_MAP,
};

static enum pin_kind pin_kind(const char *name)
{
	size_t i;

	for (i = 0; i < GUARD_HOOKS; i++)
		if (!strcmp(name, hook_pins[i]))
			return PIN_LINK;
	if (!strcmp(name, MKDIR_PIN) || !strcmp(name, RMDIR_PIN))
		return PIN_LINK;
	/* Every map of nfsguard's, inner ones included, is nfsg_[a-z0-9_]+. */
	if (strncmp(name, "nfsg_", 5) || !name[5] ||
	    name[5 + strspn(name + 5, "abcdefghijklmnopqrstuvwxyz0123456789_")])
		return PIN_FOREIGN;
	return PIN_MAP;
}

/* What a BPF object fd is: "map", "link", "prog", or NULL. */
static const char *bpf_fd_kind(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	if (!strcmp(target, "anon_inode:bpf-map"))
		return "map";
	if (!strcmp(target, "anon_inode:bpf_link") ||
	    !strcmp(target, "anon_inode:bpf-link"))
		return "link";
	if (!strcmp(target, "anon_inode:bpf-prog"))
		return "prog";
	return NULL;
}

enum pin_verdict {
	PIN_OURS,		/* a pin nfsguard made: root's, of its kind */
	PIN_OTHER,		/* root's, under a name nfsguard does not use */
	PIN_PLANTED,		/* a link, another user's, or the wrong kind */
};

/* Is d's entry name nfsguard's? If planted, why in why. */
static enum pin_verdict pin_check(const struct pin_dir *d, const char *name,
				  char *why, size_t len)
{
	enum pin_kind kind = pin_kind(name);
	const char *want = kind == PIN_LINK ? "link" : "map", *got;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		snprintf(why, len, "cannot be inspected (%s)", strerror(errno));
		return PIN_PLANTED;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, len, "is a symbolic link");
		return PIN_PLANTED;
	}
	if (!trusted_uid(st.st_uid)) {
		snprintf(why, len, "is owned by uid %u, not root",
			 (unsigned)st.st_uid);
		return PIN_PLANTED;
	}
	if (kind == PIN_FOREIGN)
		return PIN_OTHER;
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "is not a pinned BPF %s", want);
		return PIN_PLANTED;
	}
	pin_dir_path(d, name, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0) {
		snprintf(why, len, "is not a pinned BPF object (%s)",
			 strerror(errno));
		return PIN_PLANTED;
	}
	got = bpf_fd_kind(fd);
	close(fd);
	if (!got || strcmp(got, want)) {
		snprintf(why, len, "is a BPF %s, not the BPF %s nfsguard pins under that name",
			 got ? got : "object of unknown kind", want);
		return PIN_PLANTED;
	}
	return PIN_OURS;
}

/*
 * Each entry of d that nfsguard did not make, one at a time: fn gets its
 * name, and why it is planted (NULL for an unknown name). Stops at the
 * first non-zero return of fn, and returns it, or -errno.
 */
static int for_each_entry(const struct pin_dir *d,
			  int (*fn)(const struct pin_dir *d, const char *name,
				    enum pin_verdict v, const char *why,
				    void *arg),
			  void *arg)
{
	char why[160];
	enum pin_verdict v;
	struct dirent *e;
	int fd, err = 0;
	DIR *dh;

	fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dh = fdopendir(fd);
	if (!dh) {
		err = -errno;
		close(fd);
		return err;
	}
	while (!err && (errno = 0, e = readdir(dh))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		why[0] = '\0';
		v = pin_check(d, e->d_name, why, sizeof(why));
		err = fn(d, e->d_name, v, why, arg);
	}
	if (!err && errno)
		err = -errno;
	closedir(dh);
	return err;
}

struct refusal {
	const char *dir;
};

static int refuse_planted(const struct pin_dir *d, const char *name,
			  enum pin_verdict v, const char *why, void *arg)
{
	const struct refusal *r = arg;

	(void)d;
	if (v != PIN_PLANTED)
		return 0;
	log_err("refusing pin directory %s: its entry '%s' %s, so nfsguard did not make it: remove it as root, or use another --pin-dir",
		r->dir, name, why);	/* log_err escapes the name */
	return -EPERM;
}

/* Read what the last agent left: its meta, and where its hooks are. */
static void inspect(struct persist *p)
{
	struct bpf_link_info info;
	char path[PATH_MAX], why[160];
	__u32 zero = 0, len;
	int fd;

	pin_path(p, "nfsg_meta", path, sizeof(path));
	fd = pin_check(&p->pins, "nfsg_meta", why, sizeof(why)) == PIN_OURS
		     ? bpf_obj_get(path) : -1;
	if (fd >= 0) {
		p->found = true;
		/* Another version's meta may be larger: read only ours. */
		if (!map_sizes_are(fd, sizeof(zero), sizeof(p->meta)) ||
		    bpf_map_lookup_elem(fd, &zero, &p->meta))
			memset(&p->meta, 0, sizeof(p->meta));
		close(fd);
	}
	pin_path(p, hook_pins[GUARD_CONNECT4], path, sizeof(path));
	fd = pin_check(&p->pins, hook_pins[GUARD_CONNECT4], why,
		       sizeof(why)) == PIN_OURS ? bpf_obj_get(path) : -1;
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
	struct refusal r = { .dir = dir };
	int err;

	memset(p, 0, sizeof(*p));
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
	err = pin_dir_open(&p->pins, p->dir, PIN_DIR_CREATE);
	if (err)
		return err;
	if (flock(p->pins.fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		log_err("another nfsguard agent is running on %s: stop it first (or use another --pin-dir)",
			p->dir);
		goto fail;
	}
	err = for_each_entry(&p->pins, refuse_planted, &r);
	if (err == -EPERM)
		goto fail;
	if (err) {
		log_err("cannot read pin directory %s: %s", p->dir,
			strerror(-err));
		goto fail;
	}
	inspect(p);
	return 0;
fail:
	pin_dir_close(&p->pins);
	return err;
}

void persist_close(struct persist *p)
{
	/* Nothing to close in a struct persist_open never filled. */
	if (!p->pins.open)
		return;
	pin_dir_close(&p->pins);
	if (p->old_counters_fd >= 0)
		close(p->old_counters_fd);
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
 * old programs no longer run: after the hooks switched, and after the
 * runs of the old programs already under way have ended (an RCU grace
 * period: guard_wait_programs). Before it, one of them could still count
 * in the old maps after they were read, and the count would be lost; the
 * per-policy counters the agent carries next (counters_carry_pinned) are
 * read after this wait too. The live counters stay untouched.
 */
static int carry_counters(struct persist *p, const struct guard *g)
{
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
	/* Not waiting costs at most what they count meanwhile; failing here
	 * would cost every count of the old maps. */
	err = guard_wait_programs();
	if (err)
		log_warn("cannot wait for the old programs to finish (%s): a count they make meanwhile may be lost",
			 strerror(-err));
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
		if (p->adopt && !faccessat(p->pins.fd, bpf_map__name(m), F_OK,
					   AT_SYMLINK_NOFOLLOW))
			continue;	/* the pin is this very map */
		/* A pin of the old layout: checked as ours at open. */
		if (unlinkat(p->pins.fd, bpf_map__name(m), 0) && errno != ENOENT) {
			err = -errno;
			log_err("cannot remove the old pin of map %s in %s: %s",
				bpf_map__name(m), p->dir, strerror(-err));
			return err;
		}
		err = bpf_map__pin(m, path);
		if (err) {
			log_err("cannot pin map %s in %s: %s", bpf_map__name(m),
				p->dir, strerror(-err));
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

	if (strlen(dir) >= sizeof(p.dir) || !on_bpffs(dir))
		return false;
	snprintf(p.dir, sizeof(p.dir), "%s", dir);
	/* A directory that fails the checks holds nothing nfsguard trusts. */
	if (pin_dir_open(&p.pins, dir, PIN_DIR_QUIET))
		return false;
	inspect(&p);
	pin_dir_close(&p.pins);
	return p.found;
}

struct removal {
	const char *dir;
	FILE *out;		/* a line for each pin removed */
	int removed, kept, err;
	char kept_names[256];	/* the first few */
};

static int remove_ours(const struct pin_dir *d, const char *name,
		       enum pin_verdict v, const char *why, void *arg)
{
	struct removal *r = arg;
	size_t n;

	(void)why;
	if (v == PIN_OURS) {
		/* The directory is root's and 0700: nobody swaps the entry. */
		if (unlinkat(d->fd, name, 0)) {
			r->err = -errno;
			log_err("cannot remove %s/%s: %s", r->dir, name,
				strerror(-r->err));
			return 0;
		}
		fprintf(r->out, "removed %s/%s\n", r->dir, name);
		r->removed++;
		return 0;
	}
	/* Raw here: the message that names them is escaped as a whole. */
	n = strlen(r->kept_names);
	if (r->kept < 3)
		snprintf(r->kept_names + n, sizeof(r->kept_names) - n, "%s'%.60s'",
			 r->kept ? ", " : "", name);
	else if (r->kept == 3)
		snprintf(r->kept_names + n, sizeof(r->kept_names) - n, ", ...");
	r->kept++;
	return 0;
}

int persist_remove(struct pin_dir *d, const char *dir, FILE *out)
{
	struct removal r = { .dir = dir, .out = out };
	int err;

	err = for_each_entry(d, remove_ours, &r);
	if (err) {
		log_err("cannot read pin directory %s: %s", dir, strerror(-err));
		return err;
	}
	if (r.err)
		return r.err;
	if (r.kept) {
		log_err("kept %d entr%s in %s that nfsguard did not pin (%s): remove %s yourself",
			r.kept, r.kept == 1 ? "y" : "ies", dir, r.kept_names,
			r.kept == 1 ? "it" : "them");
		return -ENOTEMPTY;
	}
	if (unlinkat(d->parent_fd, d->base, AT_REMOVEDIR)) {
		err = -errno;
		log_err("cannot remove %s: %s", dir, strerror(-err));
		return err;
	}
	return r.removed;
}
