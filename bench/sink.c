// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * sink: the server side of every bench workload, on one thread.
 *
 *   sink ADDR:PORT...        e.g. sink 127.0.0.1:2049 [::1]:2049
 *
 * Listens on each address, prints "ready" on stdout, then accepts until
 * SIGINT or SIGTERM. A connection whose first byte is 'E' gets every byte
 * echoed back (rr); any other is read and discarded (stream); one that
 * ends before sending anything is closed (cycle).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include "tool.h"

#define MAX_LISTENERS 16
#define BACKLOG 65535	/* capped by net.core.somaxconn */
#define BUF_BYTES (256 * 1024)

enum conn_mode { MODE_NEW = 0, MODE_ECHO, MODE_DISCARD, MODE_LISTEN };

struct sink {
	int epfd;
	int nfds;		/* capacity of mode[] */
	unsigned char *mode;	/* enum conn_mode by fd */
	char *buf;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: sink ADDR:PORT...\n");
	exit(TOOL_EXIT_USAGE);
}

/* Open, bind and register one listener: 0, or -1 after saying why. */
static int listen_on(struct sink *s, const char *spec)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	char host[64];
	const char *colon = strrchr(spec, ':');
	socklen_t len;
	int fd, one = 1;

	if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
		tool_err("'%s' is not ADDR:PORT", spec);
		return -1;
	}
	memcpy(host, spec, colon - spec);
	host[colon - spec] = '\0';
	if (tool_addr(host, colon + 1, &ss, &len) < 0) {
		tool_err("'%s' is not ADDR:PORT", spec);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tool_err("socket for %s: %s", spec, strerror(errno));
		return -1;
	}
	if (fd >= s->nfds ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, BACKLOG)) {
		tool_err("cannot listen on %s: %s", spec,
			 fd >= s->nfds ? "too many files" : strerror(errno));
		close(fd);
		return -1;
	}
	ev.data.fd = fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		tool_err("epoll_ctl for %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	s->mode[fd] = MODE_LISTEN;
	return 0;
}

static void drop(struct sink *s, int fd)
{
	s->mode[fd] = MODE_NEW;
	close(fd);	/* closing also removes it from the epoll set */
}

/* Write all of buf back; a full send buffer ends the connection. */
static int echo(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, buf, n);
		if (w < 0)
			return -1;
		buf += w;
		n -= w;
	}
	return 0;
}

/* Read what is there: false once the connection is over. */
static bool serve(struct sink *s, int fd)
{
	ssize_t n;

	for (;;) {
		n = read(fd, s->buf, BUF_BYTES);
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		if (s->mode[fd] == MODE_NEW)
			s->mode[fd] = s->buf[0] == 'E' ? MODE_ECHO : MODE_DISCARD;
		if (s->mode[fd] == MODE_ECHO && echo(fd, s->buf, n))
			return false;
	}
}

static void accept_all(struct sink *s, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != ECONNABORTED)
				tool_err("accept: %s", strerror(errno));
			return;
		}
		if (fd >= s->nfds) {
			tool_err("accept: more than %d open files", s->nfds);
			close(fd);
			continue;
		}
		s->mode[fd] = MODE_NEW;
		/* A connect cycle's connection is usually over already. */
		if (!serve(s, fd)) {
			drop(s, fd);
			continue;
		}
		ev.data.fd = fd;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
		    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			tool_err("cannot watch a connection: %s", strerror(errno));
			drop(s, fd);
		}
	}
}

/* Room for as many connections as the hard limit on open files allows. */
static int setup(struct sink *s)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		tool_err("getrlimit: %s", strerror(errno));
		return -1;
	}
	rl.rlim_cur = rl.rlim_max > 1 << 20 ? 1 << 20 : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		tool_err("setrlimit: %s", strerror(errno));
		return -1;
	}
	s->nfds = rl.rlim_cur;
	s->mode = calloc(s->nfds, 1);
	s->buf = malloc(BUF_BYTES);
	if (!s->mode || !s->buf) {
		tool_err("out of memory");
		return -1;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		tool_err("epoll_create1: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct epoll_event evs[64];
	struct sink s = { .epfd = -1 };
	int i, n, fd, status = TOOL_EXIT_FAIL;

	if (argc < 2 || argc - 1 > MAX_LISTENERS)
		usage();
	/* No SA_RESTART: a signal must end epoll_wait. */
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		tool_err("sigaction: %s", strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	if (setup(&s))
		goto cleanup;
	for (i = 1; i < argc; i++)
		if (listen_on(&s, argv[i]))
			goto cleanup;
	printf("ready\n");
	if (fflush(stdout)) {
		tool_err("cannot write to stdout: %s", strerror(errno));
		goto cleanup;
	}

	while (!stop) {
		n = epoll_wait(s.epfd, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			tool_err("epoll_wait: %s", strerror(errno));
			goto cleanup;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (s.mode[fd] == MODE_LISTEN)
				accept_all(&s, fd);
			else if (!serve(&s, fd))
				drop(&s, fd);
		}
	}
	status = 0;
cleanup:
	/* Every socket goes with the process. */
	if (s.epfd >= 0)
		close(s.epfd);
	free(s.mode);
	free(s.buf);
	return status;
}
