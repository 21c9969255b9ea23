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

/* A request for one socket (SOCK_DESTROY or an exact lookup) in buf. */
static struct nlmsghdr *one_request(char *buf, __u16 type, __u16 flags,
				    unsigned int seq,
				    const struct sockdiag_sock *s)
{
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = s->family;
	req->sdiag_protocol = s->protocol;
	req->idiag_states = ~0U;
	req->id.idiag_sport = htons(s->sport);
	req->id.idiag_dport = htons(s->dport);
	memcpy(req->id.idiag_src, s->saddr,
	       s->family == AF_INET ? 4 : sizeof(req->id.idiag_src));
	memcpy(req->id.idiag_dst, s->daddr,
	       s->family == AF_INET ? 4 : sizeof(req->id.idiag_dst));
	req->id.idiag_cookie[0] = (__u32)s->cookie;
	req->id.idiag_cookie[1] = (__u32)(s->cookie >> 32);
	return nlh;
}

/* Send nlh; its answers never take long: at most a second. */
static int send_request(int fd, const struct nlmsghdr *nlh, int seconds)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = seconds };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&nl,
		   sizeof(nl)) < 0)
		return -errno;
	return 0;
}

int sockdiag_destroy(int fd, const struct sockdiag_sock *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = (unsigned int)time(NULL);
	struct nlmsghdr *nlh;
	ssize_t n;
	int err;

	nlh = one_request(buf, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, seq, s);
	err = send_request(fd, nlh, 1);
	if (err)
		return err;
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
	int protocol;
	int found;		/* messages handed to cb */
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
	i.s.protocol = d->protocol;
	i.s.sport = ntohs(m->id.idiag_sport);
	i.s.dport = ntohs(m->id.idiag_dport);
	memcpy(i.s.saddr, m->id.idiag_src, d->family == AF_INET ? 4 : 16);
	memcpy(i.s.daddr, m->id.idiag_dst, d->family == AF_INET ? 4 : 16);
	i.s.cookie = (__u64)m->id.idiag_cookie[0] |
		     (__u64)m->id.idiag_cookie[1] << 32;
	i.ino = m->idiag_inode;
	i.uid = m->idiag_uid;
	i.state = m->idiag_state;
	d->found++;
	d->stop = d->cb(&i, d->data);
	return d->stop ? MNL_CB_STOP : MNL_CB_OK;
}

int sockdiag_dump(int fd, int protocol, int family, __u32 states,
		  int (*cb)(const struct sockdiag_info *i, void *data),
		  void *data)
{
	struct dump d = { .family = family, .protocol = protocol, .cb = cb,
			  .data = data };
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
	req->sdiag_protocol = protocol;
	req->idiag_states = states;
	err = send_request(fd, nlh, 2);
	if (err)
		goto out;
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

static int found_one(const struct sockdiag_info *i, void *data)
{
	*(struct sockdiag_info *)data = *i;
	return 0;
}

int sockdiag_find(int fd, const struct sockdiag_sock *s,
		  struct sockdiag_info *out)
{
	struct sockdiag_sock any = *s;
	struct dump d = { .family = s->family, .protocol = s->protocol,
			  .cb = found_one, .data = out };
	unsigned int seq = (unsigned int)time(NULL);
	char *buf = malloc(DUMP_BUF);
	struct nlmsghdr *nlh;
	int err;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	any.cookie = SOCKDIAG_NOCOOKIE;
	if (s->protocol == IPPROTO_UDP) {
		/* udp_dump_one() takes src for the peer and dst for the
		 * socket's own ("swapped for historical reasons"), unlike
		 * its SOCK_DESTROY: ask for the socket, not its peer's. */
		memcpy(any.saddr, s->daddr, sizeof(any.saddr));
		memcpy(any.daddr, s->saddr, sizeof(any.daddr));
		any.sport = s->dport;
		any.dport = s->sport;
	}
	nlh = one_request(buf, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq, &any);
	err = send_request(fd, nlh, 1);
	if (err)
		goto out;
	/* One answer: the socket's message, or an NLMSG_ERROR. */
	n = recv(fd, buf, DUMP_BUF, MSG_TRUNC);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	if (n > DUMP_BUF) {
		err = -EMSGSIZE;
		goto out;
	}
	if (mnl_cb_run(buf, n, seq, 0, dump_msg, &d) == MNL_CB_ERROR)
		err = -errno;
	else if (d.found != 1)
		err = -EBADMSG;
out:
	free(buf);
	return err;
}
