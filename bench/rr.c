// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * rr: 64-byte request/response transactions over one TCP connection to a
 * sink that echoes, one at a time, for a while.
 *
 *   rr [-t SECONDS] ADDR PORT
 *
 * Prints one JSON line:
 *   {"transactions":N,"ns":T,"ns_per_txn":X,"median_ns_per_txn":M}
 * where M comes from the median chunk of CHUNK transactions (see tool.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

#define MSG 64
#define CHUNK 16

static void usage(void)
{
	fprintf(stderr, "usage: rr [-t SECONDS] ADDR PORT\n");
	exit(TOOL_EXIT_USAGE);
}

/* Send one request and read its whole echo: 0, or -1 after saying why. */
static int transaction(int fd, char *msg)
{
	size_t got = 0;
	ssize_t n;

	n = write(fd, msg, MSG);
	if (n != MSG) {
		tool_err("write: %s", n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	while (got < MSG) {
		n = read(fd, msg + got, MSG - got);
		if (n <= 0) {
			tool_err("read: %s", n < 0 ? strerror(errno) :
				 "the sink closed the connection");
			return -1;
		}
		got += n;
	}
	return 0;
}

struct rr_run {
	int fd;
	char msg[MSG];
	uint64_t n;		/* transactions done */
};

static int rr_chunk(void *arg)
{
	struct rr_run *r = arg;
	int i;

	for (i = 0; i < CHUNK; i++, r->n++)
		if (transaction(r->fd, r->msg))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t duration_ns = 1000000000ULL, took;
	struct tool_chunks chunks = {};
	struct rr_run r = { .fd = -1 };
	struct sockaddr_storage ss;
	socklen_t len;
	int c, status = TOOL_EXIT_FAIL;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't' || tool_seconds(optarg, &duration_ns))
			usage();
	}
	if (argc - optind != 2 ||
	    tool_addr(argv[optind], argv[optind + 1], &ss, &len) < 0)
		usage();

	/* The sink reads a first byte 'E' as "echo". */
	memset(r.msg, 'E', sizeof(r.msg));
	r.fd = tool_connect(&ss, len);
	if (r.fd < 0) {
		tool_err("connect: %s", strerror(-r.fd));
		goto cleanup;
	}
	if (tool_run_chunks(&chunks, duration_ns, rr_chunk, &r, &took))
		goto cleanup;

	printf("{\"transactions\":%llu,\"ns\":%llu,\"ns_per_txn\":%.1f,"
	       "\"median_ns_per_txn\":%.1f}\n",
	       (unsigned long long)r.n, (unsigned long long)took,
	       (double)took / r.n,
	       (double)tool_chunk_median(&chunks) / CHUNK);
	status = fflush(stdout) ? TOOL_EXIT_FAIL : 0;
cleanup:
	if (r.fd >= 0)
		close(r.fd);
	tool_chunks_free(&chunks);
	return status;
}
