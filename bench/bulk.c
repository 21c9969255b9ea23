// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bulk: CPU time per byte (or per transaction) of one loopback TCP
 * connection whose both ends this process owns, one chunk per turn.
 *
 *   bulk [-r] [-n UNITS] [-c SEND_CPU,RECV_CPU] ADDR
 *
 * Listens on ADDR, port 0 (the kernel picks one), connects to itself and
 * accepts: the sender is the main thread, the receiver a second one, each
 * pinned to its CPU. The connection is made once, before the first turn,
 * so every packet of a turn is a packet of an established connection.
 * Then, for each byte read on stdin, one chunk:
 *   - bulk (default): UNITS MiB (default 64) written in 128 KiB writes and
 *     read by the receiver;
 *   - with -r: UNITS 64-byte request/response transactions (default 4096),
 *     the receiver echoing each request.
 * and one line on stdout: "CPU_NS WALL_NS UNITS_DONE", the CPU time being
 * the whole process's (both threads, CLOCK_PROCESS_CPUTIME_ID), which
 * includes the softirq work the kernel does in their context. The run
 * ends, exit 0, when stdin ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

#define BUF_BYTES (128 * 1024)
#define MIB (1024 * 1024)
#define RR_BYTES 64
#define MAX_UNITS 1000000L
/* Fixed socket buffers: no autotuning, so that every worker's connection
 * batches its bytes alike, turn after turn. */
#define SOCK_BUF (1024 * 1024)

struct bulk {
	bool rr;
	long units;
	int send_cpu, recv_cpu;
	int rfd;		/* the receiver's end */
	int done;		/* eventfd: the receiver finished a chunk */
	char *rbuf;
};

static void usage(void)
{
	fprintf(stderr, "usage: bulk [-r] [-n UNITS] [-c SEND_CPU,RECV_CPU] ADDR\n");
	exit(TOOL_EXIT_USAGE);
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int read_full(int fd, char *buf, size_t n)
{
	ssize_t r;

	while (n) {
		r = read(fd, buf, n);
		if (r <= 0)
			return -1;
		buf += r;
		n -= r;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t n)
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

/* The receiver: read (and echo, with -r) one chunk, then say so. */
static void *receive(void *arg)
{
	struct bulk *b = arg;
	uint64_t one = 1, want;
	ssize_t r;
	long i;

	if (pin(b->recv_cpu))
		tool_err("cannot pin the receiver to CPU %d", b->recv_cpu);
	for (;;) {
		if (b->rr) {
			for (i = 0; i < b->units; i++)
				if (read_full(b->rfd, b->rbuf, RR_BYTES) ||
				    write_full(b->rfd, b->rbuf, RR_BYTES))
					return NULL;
		} else {
			for (want = (uint64_t)b->units * MIB; want; want -= r) {
				r = read(b->rfd, b->rbuf,
					 want < BUF_BYTES ? want : BUF_BYTES);
				if (r <= 0)
					return NULL;
			}
		}
		if (write(b->done, &one, sizeof(one)) != sizeof(one))
			return NULL;
	}
}

/* One chunk from the sender's side: 0, or -1 after saying why. */
static int chunk(struct bulk *b, int sfd, char *buf)
{
	uint64_t n;
	long i;

	if (b->rr) {
		for (i = 0; i < b->units; i++)
			if (write_full(sfd, buf, RR_BYTES) ||
			    read_full(sfd, buf, RR_BYTES)) {
				tool_err("request/response: %s", strerror(errno));
				return -1;
			}
	} else {
		for (i = 0; i < b->units * (MIB / BUF_BYTES); i++)
			if (write_full(sfd, buf, BUF_BYTES)) {
				tool_err("write: %s", strerror(errno));
				return -1;
			}
	}
	if (read(b->done, &n, sizeof(n)) != sizeof(n)) {
		tool_err("the receiver stopped");
		return -1;
	}
	return 0;
}

static int fix_buffers(int fd)
{
	int n = SOCK_BUF;

	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n)) ||
	       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
}

/* Listen on ss (port 0), connect to it, accept: 0, or -1. The accepted
 * socket inherits the listener's buffers. */
static int pair(struct sockaddr_storage *ss, socklen_t len, int *sfd, int *rfd)
{
	int lfd, fd, one = 1;

	lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || fix_buffers(lfd) || bind(lfd, (struct sockaddr *)ss, len) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)ss, &len)) {
		tool_err("cannot listen: %s", strerror(errno));
		goto fail;
	}
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || fix_buffers(fd) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    connect(fd, (struct sockaddr *)ss, len)) {
		tool_err("cannot connect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	*sfd = fd;
	*rfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*rfd < 0 ||
	    setsockopt(*rfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		tool_err("cannot accept: %s", strerror(errno));
		goto fail;
	}
	close(lfd);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	return -1;
}

int main(int argc, char **argv)
{
	struct bulk b = { .units = 0, .send_cpu = -1, .recv_cpu = -1,
			  .rfd = -1, .done = -1 };
	struct sockaddr_storage ss;
	uint64_t c0, t0;
	socklen_t len;
	pthread_t rt;
	char *buf = NULL, token, *comma;
	int c, sfd = -1, status = TOOL_EXIT_FAIL;
	long v;

	while ((c = getopt(argc, argv, "rn:c:")) != -1) {
		switch (c) {
		case 'r':
			b.rr = true;
			break;
		case 'n':
			if (tool_number(optarg, 1, MAX_UNITS, &b.units))
				usage();
			break;
		case 'c':
			comma = strchr(optarg, ',');
			if (!comma)
				usage();
			*comma = '\0';
			if (tool_number(optarg, 0, CPU_SETSIZE - 1, &v))
				usage();
			b.send_cpu = v;
			if (tool_number(comma + 1, 0, CPU_SETSIZE - 1, &v))
				usage();
			b.recv_cpu = v;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || tool_addr(argv[optind], "1", &ss, &len) < 0)
		usage();
	if (!b.units)
		b.units = b.rr ? 4096 : 64;
	((struct sockaddr_in *)&ss)->sin_port = 0;	/* both families */

	buf = calloc(1, BUF_BYTES);
	b.rbuf = malloc(BUF_BYTES);
	b.done = eventfd(0, EFD_CLOEXEC);
	if (!buf || !b.rbuf || b.done < 0) {
		tool_err("out of memory or eventfd: %s", strerror(errno));
		goto cleanup;
	}
	if (pin(b.send_cpu)) {
		tool_err("cannot pin the sender to CPU %d", b.send_cpu);
		goto cleanup;
	}
	if (pair(&ss, len, &sfd, &b.rfd))
		goto cleanup;
	if (pthread_create(&rt, NULL, receive, &b)) {
		tool_err("cannot start the receiver");
		goto cleanup;
	}
	pthread_detach(rt);

	while (read(STDIN_FILENO, &token, 1) == 1) {
		c0 = cpu_ns();
		t0 = tool_now_ns();
		if (chunk(&b, sfd, buf))
			goto cleanup;
		printf("%llu %llu %ld\n", (unsigned long long)(cpu_ns() - c0),
		       (unsigned long long)(tool_now_ns() - t0), b.units);
		if (fflush(stdout)) {
			tool_err("cannot write to stdout: %s", strerror(errno));
			goto cleanup;
		}
	}
	status = 0;
cleanup:
	/* The receiver goes with the process. */
	if (sfd >= 0)
		close(sfd);
	free(buf);
	return status;
}
