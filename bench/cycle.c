// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cycle: socket + connect + close, as fast as one thread can, for a while.
 *
 *   cycle [-t SECONDS] [-e ok|EPERM] [-s SAMPLES] ADDR PORT
 *
 * Every connect must end as -e says (default ok); the first that does not
 * stops the run with exit 1, so a condition that lets through what it
 * should refuse, or the reverse, never yields a number. An accepted
 * connection is closed with SO_LINGER 0 (a RST): no TIME_WAIT socket is
 * left to use up the ephemeral ports. Prints one JSON line:
 *   {"cycles":N,"ns":T,"ns_per_cycle":X}
 * and with -s, the latency of connect() itself over the first SAMPLES
 * cycles: "p50_ns", "p99_ns", "max_ns".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

/* Read the clock once per this many cycles, to keep it off the cycle. */
#define CHECK_EVERY 64
#define MAX_SAMPLES 10000000L

struct opts {
	uint64_t duration_ns;
	int expect;		/* 0 or the errno connect() must fail with */
	long samples;
	struct sockaddr_storage ss;
	socklen_t len;
};

static void usage(void)
{
	fprintf(stderr, "usage: cycle [-t SECONDS] [-e ok|EPERM] [-s SAMPLES] ADDR PORT\n");
	exit(TOOL_EXIT_USAGE);
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	o->duration_ns = 1000000000ULL;
	while ((c = getopt(argc, argv, "t:e:s:")) != -1) {
		switch (c) {
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
		default:
			usage();
		}
	}
	if (argc - optind != 2 ||
	    tool_addr(argv[optind], argv[optind + 1], &o->ss, &o->len) < 0)
		usage();
}

/* One cycle: 0, or -1 after saying why. *connect_ns gets connect()'s time. */
static int one_cycle(const struct opts *o, unsigned long long n,
		     uint64_t *connect_ns)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	uint64_t t0;
	int fd, err;

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

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct opts o = {};
	unsigned long long n = 0;
	uint64_t *samples = NULL, start, end, kept;
	int status = TOOL_EXIT_FAIL;

	parse(argc, argv, &o);
	if (o.samples) {
		samples = calloc(o.samples, sizeof(*samples));
		if (!samples) {
			tool_err("out of memory for %ld samples", o.samples);
			goto cleanup;
		}
	}

	start = tool_now_ns();
	end = start;
	/* At least one cycle, then until the time is up. */
	for (;;) {
		if (n && n % CHECK_EVERY == 0) {
			end = tool_now_ns();
			if (end - start >= o.duration_ns)
				break;
		}
		if (one_cycle(&o, n, samples && n < (uint64_t)o.samples ?
					     &samples[n] : NULL))
			goto cleanup;
		n++;
	}

	printf("{\"cycles\":%llu,\"ns\":%llu,\"ns_per_cycle\":%.1f", n,
	       (unsigned long long)(end - start), (double)(end - start) / n);
	kept = n < (uint64_t)o.samples ? n : (uint64_t)o.samples;
	if (kept) {
		qsort(samples, kept, sizeof(*samples), by_value);
		printf(",\"samples\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu",
		       (unsigned long long)kept,
		       (unsigned long long)samples[kept / 2],
		       (unsigned long long)samples[kept * 99 / 100],
		       (unsigned long long)samples[kept - 1]);
	}
	printf("}\n");
	status = fflush(stdout) ? TOOL_EXIT_FAIL : 0;
cleanup:
	free(samples);
	return status;
}
