// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>
#include "sockdiag.h"

int sockdiag_open(int netns)
{
	int self = -1, fd = -1, err = 0;

	if (netns >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return -errno;
		if (setns(netns, CLONE_NEWNET)) {
			err = -errno;
			goto out;
		}
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		err = -errno;
	/* Back home before anything else: the socket keeps its netns. */
	if (self >= 0 && setns(self, CLONE_NEWNET) && !err)
		err = -errno;
out:
	if (self >= 0)
		close(self);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

int sockdiag_destroy(int fd, const struct sockdiag_sock *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	struct nlmsghdr *nlh;
	unsigned int seq = (unsigned int)time(NULL);
	ssize_t n;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = s->family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0U;
	req->id.idiag_sport = htons(s->sport);
	req->id.idiag_dport = htons(s->dport);
	memcpy(req->id.idiag_src, s->saddr,
	       s->family == AF_INET ? 4 : sizeof(req->id.idiag_src));
	memcpy(req->id.idiag_dst, s->daddr,
	       s->family == AF_INET ? 4 : sizeof(req->id.idiag_dst));
	req->id.idiag_cookie[0] = (__u32)s->cookie;
	req->id.idiag_cookie[1] = (__u32)(s->cookie >> 32);
	/* The answer is one ack: never wait for it long. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&nl,
		   sizeof(nl)) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	/* The kernel's answer: an NLMSG_ERROR carrying 0 or -errno. */
	if (mnl_cb_run(buf, n, seq, 0, NULL, NULL) < 0)
		return errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
	return 0;
}
