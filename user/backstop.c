// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "backstop.h"
#include "log.h"
#include "sockdiag.h"

/* An fd of the network namespace r's socket lives in, or -1 for ours. */
static int netns_of(const struct nfsg_egress_event *r, int *fd)
{
	char path[64];
	struct stat st;

	*fd = -1;
	if (!stat("/proc/self/ns/net", &st) && st.st_ino == r->netns)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/ns/net", r->e.pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	/* The process may have gone and its pid been reused: the inode
	 * tells the namespace, the cookie then the socket. */
	if (fstat(*fd, &st) || st.st_ino != r->netns) {
		close(*fd);
		*fd = -1;
		return -ESRCH;
	}
	return 0;
}

int backstop_abort(const struct nfsg_egress_event *r)
{
	struct sockdiag_sock s = {
		.cookie = r->cookie,
		.family = r->sock_family,
		.sport = r->sock_sport,
		.dport = r->sock_dport,
	};
	int ns = -1, fd = -1, err;

	memcpy(s.saddr, r->sock_saddr, sizeof(s.saddr));
	memcpy(s.daddr, r->sock_daddr, sizeof(s.daddr));
	err = netns_of(r, &ns);
	if (err) {
		log_err("cannot abort a refused connect of pid %u: its network namespace (inode %u) is out of reach (%s); it times out instead",
			r->e.pid, r->netns, strerror(-err));
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
