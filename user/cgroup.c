// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "cgroup.h"

/* kernfs exports cgroups by id in an 8-byte file handle of this type. */
#define FILEID_KERNFS 0xfe

struct cgroup_handle {
	struct file_handle fh;
	__u64 id;
};

int cgroup2_open(struct cgroup2 *cg)
{
	struct mntent *m;
	FILE *f;
	int err = -ENOENT;

	memset(cg, 0, sizeof(*cg));
	cg->mount_fd = -1;
	f = setmntent("/proc/mounts", "re");
	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		if (strlen(m->mnt_dir) >= sizeof(cg->mount)) {
			err = -ENAMETOOLONG;
			continue;
		}
		strcpy(cg->mount, m->mnt_dir);
		err = 0;
		break;
	}
	endmntent(f);
	if (err)
		return err;
	cg->mount_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->mount_fd < 0)
		return -errno;
	return 0;
}

void cgroup2_close(struct cgroup2 *cg)
{
	if (cg->mount_fd >= 0)
		close(cg->mount_fd);
	cg->mount_fd = -1;
}

static int cgroup_id_of(int fd, __u64 *id)
{
	struct cgroup_handle h = { .fh.handle_bytes = sizeof(__u64) };
	int mount_id;

	if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(__u64))
		return -EINVAL;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

static void cache_put(struct cgroup2 *cg, __u64 id, const char *rel)
{
	struct cgroup_cache_slot *s = &cg->cache[id % CGROUP_CACHE_SLOTS];

	s->id = id;
	snprintf(s->path, sizeof(s->path), "/%s", rel);
}

int cgroup_open(struct cgroup2 *cg, const char *path, int *fd, __u64 *id)
{
	size_t mlen = strlen(cg->mount);
	struct statfs sfs;
	int dfd, err;

	/* A full path under the mount, or one relative to it. */
	if (!strncmp(path, cg->mount, mlen) &&
	    (path[mlen] == '/' || path[mlen] == '\0'))
		path += mlen;
	while (*path == '/')
		path++;
	dfd = openat(cg->mount_fd, *path ? path : ".",
		     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstatfs(dfd, &sfs) < 0) {
		err = -errno;
		goto fail;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		err = -EXDEV;
		goto fail;
	}
	err = cgroup_id_of(dfd, id);
	if (err)
		goto fail;
	cache_put(cg, *id, path);
	*fd = dfd;
	return 0;
fail:
	close(dfd);
	return err;
}

static int resolve(const struct cgroup2 *cg, __u64 id, char *buf, size_t len)
{
	struct cgroup_handle h = {
		.fh.handle_bytes = sizeof(__u64),
		.fh.handle_type = FILEID_KERNFS,
		.id = id,
	};
	char link[64], target[PATH_MAX];
	size_t mlen = strlen(cg->mount);
	ssize_t n;
	int fd, err = 0;

	fd = open_by_handle_at(cg->mount_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	target[n] = '\0';
	if (strncmp(target, cg->mount, mlen) ||
	    (target[mlen] != '/' && target[mlen] != '\0')) {
		err = -EXDEV;
		goto out;
	}
	snprintf(buf, len, "%s", target[mlen] ? target + mlen : "/");
out:
	close(fd);
	return err;
}

const char *cgroup_path(struct cgroup2 *cg, __u64 id)
{
	struct cgroup_cache_slot *s = &cg->cache[id % CGROUP_CACHE_SLOTS];

	if (s->id == id && s->path[0])
		return s->path;
	if (cg->mount_fd < 0 || resolve(cg, id, s->path, sizeof(s->path))) {
		/* Gone already, or not ours to see: do not cache the miss. */
		s->id = 0;
		s->path[0] = '\0';
		return "?";
	}
	s->id = id;
	return s->path;
}
