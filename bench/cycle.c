// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cycle: socket + connect + close, as fast as one thread can, for a while.
 *
 *   cycle [-t SECONDS] [-e ok|EPERM] [-s SAMPLES] ADDR PORT
 *   cycle -l [-e ok|EPERM] [-n CYCLES] [-x MIB] ADDR PORT
 *
 * Every connect must end as -e says (default ok); the first that does not
 * stops the run with exit 1, so a condition that lets through what it
 * should refuse, or the reverse, never yields a number. An accepted
 * connection is closed with SO_LINGER 0 (a RST): no TIME_WAIT socket is
 * left to use up the ephemeral ports. Prints one JSON line:
 *   {"cycles":N,"ns":T,"ns_per_cycle":X,"median_ns_per_cycle":M}
 * where M comes from the median chunk of CHUNK cycles (see tool.h); with
 * -s, also the latency of connect() itself over the first SAMPLES cycles:
 * "samples", "p50_ns", "p99_ns", "max_ns".
 *
 * With -l (lockstep), it runs one chunk per byte read on stdin and prints
 * that chunk's ns per cycle on a line of its own, until stdin ends: a
 * conductor can then take turns between several of these, so that the
 * conditions they run under are compared chunk by chunk. -n sets the
 * cycles of a chunk (default 64). With -x, each connect follows a walk
 * over a buffer of MIB MiB, one store per cache line: what the caches and
 * the TLB held of the kernel's data (a BPF map's entry, say) is gone, so
 * the connect meets its data cold.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

/* Cycles per chunk: the clock is read once per chunk, off the cycle. */
#define CHUNK 64
#define MAX_SAMPLES 10000000L
#define MAX_CHUNK 65536L
#define MAX_EVICT_MIB 4096L
#define LINE 64

struct opts {
	bool lockstep;
	uint64_t duration_ns;
	int expect;		/* 0 or the errno connect() must fail with */
	long samples;
	long chunk;		/* cycles per lockstep chunk */
	size_t evict_bytes;	/* -x: the buffer walked before each connect */
	char *evict;
	struct sockaddr_storage ss;
	socklen_t len;
};

static void usage(void)
{
	fprintf(stderr, "usage: cycle [-t SECONDS] [-e ok|EPERM] [-s SAMPLES] ADDR PORT\n"
			"       cycle -l [-e ok|EPERM] [-n CYCLES] [-x MIB] ADDR PORT\n");
	exit(TOOL_EXIT_USAGE);
}

static void parse(int argc, char **argv, struct opts *o)
{
	long mib;
	int c;

	o->duration_ns = 1000000000ULL;
	o->chunk = CHUNK;
	while ((c = getopt(argc, argv, "lt:e:s:n:x:")) != -1) {
		switch (c) {
		case 'l':
			o->lockstep = true;
			break;
		case 't':
			if (tool_seconds(optarg, &o->duration_ns))
				usage();
			break;
		case 'e':
			if (!strcmp(optarg, "ok"))
				o->expect = 0;
			else if (!strcmp(optarg, "EPERM"))
				o->expect = EPERM;
			else
				usage();
			break;
		case 's':
			if (tool_number(optarg, 1, MAX_SAMPLES, &o->samples))
				usage();
			break;
		case 'n':
			if (tool_number(optarg, 1, MAX_CHUNK, &o->chunk))
				usage();
			break;
		case 'x':
			if (tool_number(optarg, 1, MAX_EVICT_MIB, &mib))
				usage();
			o->evict_bytes = (size_t)mib << 20;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || (o->lockstep && o->samples) ||
	    (!o->lockstep && (o->evict_bytes || o->chunk != CHUNK)) ||
	    tool_addr(argv[optind], argv[optind + 1], &o->ss, &o->len) < 0)
		usage();
}

/* One cycle: 0, or -1 after saying why. *connect_ns gets connect()'s time. */
static int one_cycle(const struct opts *o, unsigned long long n,
		     uint64_t *connect_ns)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	uint64_t t0;
	size_t i;
	int fd, err;

	for (i = 0; i < o->evict_bytes; i += LINE)
		((volatile char *)o->evict)[i]++;
	fd = socket(o->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tool_err("socket: %s", strerror(errno));
		return -1;
	}
	if (!o->expect &&
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst))) {
		tool_err("SO_LINGER: %s", strerror(errno));
		close(fd);
		return -1;
	}
	t0 = connect_ns ? tool_now_ns() : 0;
	err = connect(fd, (const struct sockaddr *)&o->ss, o->len) ? errno : 0;
	if (connect_ns)
		*connect_ns = tool_now_ns() - t0;
	close(fd);
	if (err != o->expect) {
		tool_err("connect %llu ended with %s, expected %s", n,
			 err ? strerrorname_np(err) : "success",
			 o->expect ? strerrorname_np(o->expect) : "success");
		return -1;
	}
	return 0;
}

static void print_samples(uint64_t *samples, uint64_t kept)
{
	tool_sort(samples, kept);
	printf(",\"samples\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu",
	       (unsigned long long)kept,
	       (unsigned long long)samples[kept / 2],
	       (unsigned long long)samples[kept * 99 / 100],
	       (unsigned long long)samples[kept - 1]);
}

/* One chunk per byte on stdin, its duration on stdout: exit status. */
static int lockstep(const struct opts *o)
{
	unsigned long long n = 0;
	uint64_t t0;
	char token;
	ssize_t r;
	int i;

	while ((r = read(STDIN_FILENO, &token, 1)) == 1) {
		t0 = tool_now_ns();
		for (i = 0; i < o->chunk; i++, n++)
			if (one_cycle(o, n, NULL))
				return TOOL_EXIT_FAIL;
		printf("%.1f\n", (double)(tool_now_ns() - t0) / o->chunk);
		if (fflush(stdout)) {
			tool_err("cannot write to stdout: %s", strerror(errno));
			return TOOL_EXIT_FAIL;
		}
	}
	if (r < 0) {
		tool_err("reading stdin: %s", strerror(errno));
		return TOOL_EXIT_FAIL;
	}
	return 0;
}

struct cycle_run {
	const struct opts *o;
	uint64_t *samples;
	unsigned long long n;	/* cycles done */
};

static int cycle_chunk(void *arg)
{
	struct cycle_run *r = arg;
	int i;

	for (i = 0; i < CHUNK; i++, r->n++)
		if (one_cycle(r->o, r->n, r->n < (uint64_t)r->o->samples ?
					   &r->samples[r->n] : NULL))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {};
	struct tool_chunks chunks = {};
	struct cycle_run r = { .o = &o };
	uint64_t *samples = NULL, took, kept;
	int status = TOOL_EXIT_FAIL;

	parse(argc, argv, &o);
	if (o.evict_bytes) {
		o.evict = calloc(1, o.evict_bytes);
		if (!o.evict) {
			tool_err("out of memory for %zu MiB", o.evict_bytes >> 20);
			return TOOL_EXIT_FAIL;
		}
	}
	if (o.lockstep)
		return lockstep(&o);
	if (o.samples) {
		samples = calloc(o.samples, sizeof(*samples));
		if (!samples) {
			tool_err("out of memory for %ld samples", o.samples);
			goto cleanup;
		}
	}

	r.samples = samples;
	if (tool_run_chunks(&chunks, o.duration_ns, cycle_chunk, &r, &took))
		goto cleanup;

	printf("{\"cycles\":%llu,\"ns\":%llu,\"ns_per_cycle\":%.1f,"
	       "\"median_ns_per_cycle\":%.1f", r.n,
	       (unsigned long long)took, (double)took / r.n,
	       (double)tool_chunk_median(&chunks) / CHUNK);
	kept = r.n < (uint64_t)o.samples ? r.n : (uint64_t)o.samples;
	if (kept)
		print_samples(samples, kept);
	printf("}\n");
	status = fflush(stdout) ? TOOL_EXIT_FAIL : 0;
cleanup:
	tool_chunks_free(&chunks);
	free(samples);
	return status;
}
