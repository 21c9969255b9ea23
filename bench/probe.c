// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * probe: one TCP connect attempt, to check what a condition does with it,
 * or to time how long a refused one takes to return.
 *
 *   probe [-w WAIT_MS] ADDR PORT
 *
 * Waits at most WAIT_MS (default 250) for the handshake. Prints one JSON
 * line: {"result":R,"elapsed_us":N}, where R is "ok", the errno's name
 * ("EPERM" from a cgroup program, "ETIMEDOUT" once the kernel gives up on
 * SYN retries) or "timeout" (no answer yet: a DROP rule at work). Exits 0
 * whenever an attempt was made, whatever its result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

static void usage(void)
{
	fprintf(stderr, "usage: probe [-w WAIT_MS] ADDR PORT\n");
	exit(TOOL_EXIT_USAGE);
}

/* 0 when connected, the errno it failed with, or -1: no answer in time. */
static int attempt(int fd, const struct sockaddr_storage *ss, socklen_t len,
		   int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t elen = sizeof(int);
	int err = 0, n;

	if (!connect(fd, (const struct sockaddr *)ss, len))
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	do {
		n = poll(&p, 1, wait_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if (n == 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		return errno;
	return err;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long wait_ms = 250;
	uint64_t t0, dt;
	int c, fd, err;

	while ((c = getopt(argc, argv, "w:")) != -1) {
		if (c != 'w' || tool_number(optarg, 1, 3600 * 1000, &wait_ms))
			usage();
	}
	if (argc - optind != 2 ||
	    tool_addr(argv[optind], argv[optind + 1], &ss, &len) < 0)
		usage();

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tool_err("socket: %s", strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	t0 = tool_now_ns();
	err = attempt(fd, &ss, len, wait_ms);
	dt = tool_now_ns() - t0;
	close(fd);

	printf("{\"result\":\"%s\",\"elapsed_us\":%llu}\n",
	       err < 0 ? "timeout" : err ? strerrorname_np(err) : "ok",
	       (unsigned long long)(dt / 1000));
	return fflush(stdout) ? TOOL_EXIT_FAIL : 0;
}
