// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include "backstop.h"
#include "log.h"
#include "sockdiag.h"

/* An fd of /proc/PID/ns/net if that is namespace inode ino, else -1. */
static int netns_fd(const char *pid, __u32 ino)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The process may have gone and its pid been reused: the inode
	 * tells the namespace, the cookie then the socket. */
	if (fstat(fd, &st) || st.st_ino != ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Some process in network namespace ino, for kernels whose cgroup_skb
 * programs cannot name the task (pid 0): rare, so a walk of /proc.
 */
static int netns_search(__u32 ino)
{
	struct dirent *d;
	DIR *proc = opendir("/proc");
	int fd = -1;

	if (!proc)
		return -1;
	while (fd < 0 && (d = readdir(proc)))
		if (isdigit((unsigned char)d->d_name[0]))
			fd = netns_fd(d->d_name, ino);
	closedir(proc);
	return fd;
}

/* An fd of the network namespace r's socket lives in, or -1 for ours. */
static int netns_of(const struct nfsg_egress_event *r, int *fd)
{
	char pid[16];
	struct stat st;

	*fd = -1;
	if (!stat("/proc/self/ns/net", &st) && st.st_ino == r->e.netns)
		return 0;
	snprintf(pid, sizeof(pid), "%u", r->e.pid);
	*fd = r->e.pid ? netns_fd(pid, r->e.netns) : netns_search(r->e.netns);
	return *fd < 0 ? -ESRCH : 0;
}

int backstop_abort(const struct nfsg_egress_event *r)
{
	struct sockdiag_sock s = {
		.cookie = r->cookie,
		.family = r->sock_family,
		.sport = r->sock_sport,
		.dport = r->sock_dport,
		.protocol = IPPROTO_TCP,
	};
	int ns = -1, fd = -1, err;

	memcpy(s.saddr, r->sock_saddr, sizeof(s.saddr));
	memcpy(s.daddr, r->sock_daddr, sizeof(s.daddr));
	err = netns_of(r, &ns);
	if (err) {
		log_err("cannot abort a refused connect of pid %u: its network namespace (inode %u) is out of reach (%s); it times out instead",
			r->e.pid, r->e.netns, strerror(-err));
		goto out;
	}
	fd = sockdiag_open(ns);
	if (fd < 0) {
		err = fd;
		log_err("cannot abort a refused connect of pid %u: no sock_diag socket in its network namespace (%s%s); it times out instead",
			r->e.pid, strerror(-err),
			err == -EPERM ? ": entering another namespace needs CAP_SYS_ADMIN" : "");
		goto out;
	}
	err = sockdiag_destroy(fd, &s);
	/* Gone already: its owner gave up, or it was aborted before. */
	if (err == -ENOENT)
		err = 0;
	if (err)
		log_err("cannot abort a refused connect of pid %u: SOCK_DESTROY failed (%s%s); it times out instead",
			r->e.pid, strerror(-err),
			err == -EOPNOTSUPP ? ": the kernel lacks CONFIG_INET_DIAG_DESTROY" : "");
out:
	if (fd >= 0)
		close(fd);
	if (ns >= 0)
		close(ns);
	return err;
}
