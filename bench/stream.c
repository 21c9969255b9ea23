// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stream: bulk TCP throughput to a sink that discards, for a while.
 *
 *   stream [-t SECONDS] ADDR PORT
 *
 * Writes 128 KiB buffers on one connection and prints one JSON line:
 *   {"bytes":N,"ns":T,"gbit_s":X,"median_gbit_s":M}
 * where M comes from the median chunk of CHUNK_WRITES writes (see tool.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

#define BUF_BYTES (128 * 1024)
#define CHUNK_WRITES 8

static void usage(void)
{
	fprintf(stderr, "usage: stream [-t SECONDS] ADDR PORT\n");
	exit(TOOL_EXIT_USAGE);
}

/* Write the whole buffer: 0, or -1 after saying why. */
static int write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, buf, n);
		if (w < 0) {
			tool_err("write: %s", strerror(errno));
			return -1;
		}
		buf += w;
		n -= w;
	}
	return 0;
}

struct stream_run {
	int fd;
	const char *buf;
	uint64_t bytes;		/* written so far */
};

static int stream_chunk(void *arg)
{
	struct stream_run *r = arg;
	int i;

	for (i = 0; i < CHUNK_WRITES; i++, r->bytes += BUF_BYTES)
		if (write_all(r->fd, r->buf, BUF_BYTES))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t duration_ns = 1000000000ULL, took;
	struct tool_chunks chunks = {};
	struct stream_run r = { .fd = -1 };
	struct sockaddr_storage ss;
	socklen_t len;
	char *buf = NULL;
	int c, status = TOOL_EXIT_FAIL;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't' || tool_seconds(optarg, &duration_ns))
			usage();
	}
	if (argc - optind != 2 ||
	    tool_addr(argv[optind], argv[optind + 1], &ss, &len) < 0)
		usage();

	buf = malloc(BUF_BYTES);
	if (!buf) {
		tool_err("out of memory");
		goto cleanup;
	}
	/* The sink reads a first byte other than 'E' as "discard". */
	memset(buf, 'D', BUF_BYTES);
	r.buf = buf;
	r.fd = tool_connect(&ss, len);
	if (r.fd < 0) {
		tool_err("connect: %s", strerror(-r.fd));
		goto cleanup;
	}
	if (tool_run_chunks(&chunks, duration_ns, stream_chunk, &r, &took))
		goto cleanup;

	printf("{\"bytes\":%llu,\"ns\":%llu,\"gbit_s\":%.3f,"
	       "\"median_gbit_s\":%.3f}\n",
	       (unsigned long long)r.bytes, (unsigned long long)took,
	       r.bytes * 8.0 / took,
	       CHUNK_WRITES * BUF_BYTES * 8.0 / tool_chunk_median(&chunks));
	status = fflush(stdout) ? TOOL_EXIT_FAIL : 0;
cleanup:
	if (r.fd >= 0)
		close(r.fd);
	tool_chunks_free(&chunks);
	free(buf);
	return status;
}
