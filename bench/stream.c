// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stream: bulk TCP throughput to a sink that discards, for a while.
 *
 *   stream [-t SECONDS] ADDR PORT
 *
 * Writes 128 KiB buffers on one connection and prints one JSON line:
 *   {"bytes":N,"ns":T,"gbit_s":X}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

#define CHUNK (128 * 1024)

static void usage(void)
{
	fprintf(stderr, "usage: stream [-t SECONDS] ADDR PORT\n");
	exit(TOOL_EXIT_USAGE);
}

int main(int argc, char **argv)
{
	uint64_t duration_ns = 1000000000ULL, start, end, bytes = 0;
	struct sockaddr_storage ss;
	socklen_t len;
	char *buf = NULL;
	int c, fd = -1, status = TOOL_EXIT_FAIL;
	ssize_t n;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't' || tool_seconds(optarg, &duration_ns))
			usage();
	}
	if (argc - optind != 2 ||
	    tool_addr(argv[optind], argv[optind + 1], &ss, &len) < 0)
		usage();

	buf = malloc(CHUNK);
	if (!buf) {
		tool_err("out of memory");
		goto cleanup;
	}
	/* The sink reads a first byte other than 'E' as "discard". */
	memset(buf, 'D', CHUNK);
	fd = tool_connect(&ss, len);
	if (fd < 0) {
		tool_err("connect: %s", strerror(-fd));
		goto cleanup;
	}

	start = tool_now_ns();
	do {
		n = write(fd, buf, CHUNK);
		if (n < 0) {
			tool_err("write: %s", strerror(errno));
			goto cleanup;
		}
		bytes += n;
		end = tool_now_ns();
	} while (end - start < duration_ns);

	printf("{\"bytes\":%llu,\"ns\":%llu,\"gbit_s\":%.3f}\n",
	       (unsigned long long)bytes, (unsigned long long)(end - start),
	       bytes * 8.0 / (end - start));
	status = fflush(stdout) ? TOOL_EXIT_FAIL : 0;
cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	return status;
}
