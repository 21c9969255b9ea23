// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
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

/* Room for one dump message batch (the kernel fills up to 32 KiB). */
#define DUMP_BUF (32 * 1024)

struct dump {
	int family;
	int (*cb)(const struct sockdiag_info *i, void *data);
	void *data;
	int stop;		/* the callback's nonzero return */
};

static int dump_attr(const struct nlattr *attr, void *data)
{
	struct sockdiag_info *i = data;

	if (mnl_attr_get_type(attr) == INET_DIAG_CGROUP_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U64) >= 0)
		i->cgroup_id = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

static int dump_msg(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sockdiag_info i = {};

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m) ||
	    m->idiag_family != d->family) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (mnl_attr_parse(nlh, sizeof(*m), dump_attr, &i) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	i.s.family = m->idiag_family;
	i.s.sport = ntohs(m->id.idiag_sport);
	i.s.dport = ntohs(m->id.idiag_dport);
	memcpy(i.s.saddr, m->id.idiag_src, d->family == AF_INET ? 4 : 16);
	memcpy(i.s.daddr, m->id.idiag_dst, d->family == AF_INET ? 4 : 16);
	i.s.cookie = (__u64)m->id.idiag_cookie[0] |
		     (__u64)m->id.idiag_cookie[1] << 32;
	i.ino = m->idiag_inode;
	i.uid = m->idiag_uid;
	i.state = m->idiag_state;
	d->stop = d->cb(&i, d->data);
	return d->stop ? MNL_CB_STOP : MNL_CB_OK;
}

int sockdiag_dump_tcp(int fd, int family, __u32 states,
		      int (*cb)(const struct sockdiag_info *i, void *data),
		      void *data)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	struct dump d = { .family = family, .cb = cb, .data = data };
	unsigned int seq = (unsigned int)time(NULL);
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	char *buf = malloc(DUMP_BUF);
	int err = 0, rc;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = states;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&nl,
		   sizeof(nl)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = recv(fd, buf, DUMP_BUF, MSG_TRUNC);
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n > DUMP_BUF) {	/* cut: never parse half a message */
			err = -EMSGSIZE;
			break;
		}
		rc = mnl_cb_run(buf, n, seq, 0, dump_msg, &d);
		if (rc == MNL_CB_ERROR) {
			err = d.stop ? d.stop : -errno;
			break;
		}
		if (rc == MNL_CB_STOP) {
			err = d.stop;
			break;
		}
	}
out:
	free(buf);
	return err;
}
