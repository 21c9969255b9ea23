/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What every bench tool shares: argument parsing, addresses, the clock and
 * one-line errors. The tools print their result as one JSON line on stdout
 * and exit 0, 1 when the run failed, or 2 for bad arguments.
 */
#ifndef NFSG_BENCH_TOOL_H
#define NFSG_BENCH_TOOL_H

#include <stdint.h>
#include <sys/socket.h>

#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* "TOOL: message\n" on stderr, TOOL being the program's name. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for news that is not an error ("attached to ..."). */
void tool_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A decimal integer in [min, max]: 0, or -EINVAL. */
int tool_number(const char *s, long min, long max, long *out);

/* Seconds as a decimal ("0.5"), more than 0 and at most an hour. */
int tool_seconds(const char *s, uint64_t *ns);

/*
 * An IPv4 or IPv6 literal and a port into ss: the address family, or
 * -EINVAL. IPv6 literals may be written with brackets ("[::1]").
 */
int tool_addr(const char *host, const char *port, struct sockaddr_storage *ss,
	      socklen_t *len);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tool_now_ns(void);

/* A connected, blocking TCP socket with TCP_NODELAY: its fd, or -errno. */
int tool_connect(const struct sockaddr_storage *ss, socklen_t len);

/*
 * The durations of equal chunks of work (say, 64 connect cycles). Their
 * median is the typical speed: a chunk that a stall of the machine hit
 * (another task, the hypervisor) falls outside it, where it would skew a
 * plain total over time.
 */
struct tool_chunks {
	uint64_t *ns;
	size_t n, cap;
};

/*
 * Run chunk(arg) again and again for duration_ns, recording how long each
 * call took; *elapsed_ns is the whole run. Returns 0, chunk's non-zero
 * result, or -ENOMEM (after saying so).
 */
int tool_run_chunks(struct tool_chunks *c, uint64_t duration_ns,
		    int (*chunk)(void *arg), void *arg, uint64_t *elapsed_ns);
/* Record one chunk's duration: 0, or -ENOMEM. */
int tool_chunk_add(struct tool_chunks *c, uint64_t ns);
/* Sort n values in place, smallest first. */
void tool_sort(uint64_t *v, size_t n);
/* The median duration (0 when there is none); sorts the chunks. */
uint64_t tool_chunk_median(struct tool_chunks *c);
void tool_chunks_free(struct tool_chunks *c);

#endif
