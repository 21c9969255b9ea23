// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsg-connect: one TCP (or UDP/MPTCP) connect attempt, the way a test case
 * describes it, reported as one JSON line on stdout:
 *   {"pid":123,"result":"ok"|"EPERM"|...,"errno":0,"elapsed_us":12}
 * pid is the process that made the attempt (the child with --handoff).
 *
 *   nfsg-connect ADDR PORT [--mode block|nonblock|fastopen|sendto]
 *                [--proto tcp|udp|mptcp|smc] [--seteuid UID] [--handoff UID]
 *                [--count N] [--unspec yes] [--ipopts yes] [--move PROCS]
 *
 * --seteuid UID  as root, seteuid(UID) before socket(): the socket is UID's
 * --handoff UID  make the socket as the caller, then fork a child that drops
 *                to UID (gid UID, no groups) and makes the attempt
 * --count N      N attempts, each on a new socket; the report then counts
 *                them: {"pid":1,"count":N,"ok":N1,"EPERM":N2,"other":N3,
 *                "other_errno":"ECONNABORTED"} (the last other's; "" if none)
 * --seconds S    with --count, stop early once S seconds have passed
 * --while PATH   with --count, stop early once PATH no longer exists
 * --unspec yes   the address's family says AF_UNSPEC (the rest as for
 *                AF_INET), which udp_sendmsg() takes as AF_INET
 * --ipopts yes   IPv4: the socket's packets carry 4 bytes of IP options
 *                (no-ops), so that their TCP header starts 24 bytes in
 * --move PROCS   after socket(), move this process to the cgroup whose
 *                cgroup.procs file PROCS is: the socket stays its maker's
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef IPPROTO_SMC
#define IPPROTO_SMC 256
#endif

struct args {
	const char *addr;
	unsigned int port;
	const char *mode;
	int type, proto;
	long seteuid_to, handoff_to, count, seconds;
	const char *while_path;	/* --while */
	int unspec;		/* --unspec yes */
	int ipopts;		/* --ipopts yes */
	const char *move;	/* --move PROCS */
};

static void usage(void)
{
	fprintf(stderr, "usage: nfsg-connect ADDR PORT [--mode block|nonblock|fastopen|sendto] "
			"[--proto tcp|udp|mptcp|smc] [--seteuid UID] [--handoff UID] [--count N [--seconds S] [--while PATH]] "
			"[--unspec yes] [--ipopts yes] [--move PROCS]\n");
	exit(2);
}

static long number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		usage();
	return v;
}

static int make_addr(const char *s, unsigned int port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return AF_INET6;
	}
	usage();
	return -1;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Returns 0 or an errno. */
static int attempt(int fd, const struct args *a,
		   const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t elen = sizeof(int);
	int err = 0;

	if (!strcmp(a->mode, "fastopen"))
		return sendto(fd, "x", 1, MSG_FASTOPEN, sa, len) < 0 ? errno : 0;
	if (!strcmp(a->mode, "sendto"))
		return sendto(fd, "x", 1, 0, sa, len) < 0 ? errno : 0;
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	/* Non-blocking and under way: wait for the outcome, bounded. */
	if (poll(&p, 1, 5000) != 1)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return errno;
	return err;
}

/* --ipopts: three no-op options and an end of list, one 32-bit word,
 * read back: the socket must hold them, or its packets would not. */
static int set_ipopts(int fd)
{
	static const unsigned char opts[4] = { 1, 1, 1, 0 };
	unsigned char got[40];
	socklen_t len = sizeof(got);

	if (setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opts, sizeof(opts)) ||
	    getsockopt(fd, IPPROTO_IP, IP_OPTIONS, got, &len)) {
		perror("IP_OPTIONS");
		return -1;
	}
	if (len != sizeof(opts)) {
		fprintf(stderr, "IP_OPTIONS: the socket holds %u bytes, not %zu\n",
			(unsigned int)len, sizeof(opts));
		return -1;
	}
	return 0;
}

/* --move: this process into another cgroup, its socket left behind. */
static int move_to(const char *procs)
{
	FILE *f = fopen(procs, "w");

	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		perror(procs);
		return -1;
	}
	return 0;
}

static int run(const struct args *a, int fd, const struct sockaddr_storage *ss,
	       socklen_t len)
{
	long long t0 = now_us();
	int err = attempt(fd, a, ss, len);
	long long dt = now_us() - t0;

	printf("{\"pid\":%d,\"result\":\"%s\",\"errno\":%d,\"elapsed_us\":%lld}\n",
	       getpid(), err ? strerrorname_np(err) : "ok", err, dt);
	fflush(stdout);
	return err ? 1 : 0;
}

/* --count: many attempts, tallied. */
static int repeat(const struct args *a, int family,
		  const struct sockaddr_storage *ss, socklen_t len)
{
	long long until = a->seconds ? now_us() + a->seconds * 1000000LL : 0;
	long i, ok = 0, eperm = 0, other = 0;
	int fd, err, other_errno = 0;

	struct stat st;

	for (i = 0; i < a->count && (!until || now_us() < until) &&
		    (!a->while_path || !stat(a->while_path, &st)); i++) {
		fd = socket(family, a->type, a->proto);
		if (fd < 0) {
			other++;
			other_errno = errno;
			continue;
		}
		err = attempt(fd, a, ss, len);
		close(fd);
		if (!err) {
			ok++;
		} else if (err == EPERM) {
			eperm++;
		} else {
			other++;
			other_errno = err;
		}
	}
	/* other_errno: the last of the others, which a failure names. */
	printf("{\"pid\":%d,\"count\":%ld,\"ok\":%ld,\"EPERM\":%ld,\"other\":%ld,\"other_errno\":\"%s\"}\n",
	       getpid(), i, ok, eperm, other,
	       other_errno ? strerrorname_np(other_errno) : "");
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .mode = "block", .type = SOCK_STREAM,
			  .proto = 0, .seteuid_to = -1, .handoff_to = -1,
			  .count = 0, .seconds = 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	int i, family, fd, status;
	pid_t child;

	if (argc < 3)
		usage();
	a.addr = argv[1];
	a.port = number(argv[2], 65535);
	for (i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--mode"))
			a.mode = argv[++i];
		else if (!strcmp(argv[i], "--proto")) {
			i++;
			if (!strcmp(argv[i], "udp")) {
				a.type = SOCK_DGRAM;
				a.proto = IPPROTO_UDP;
			} else if (!strcmp(argv[i], "mptcp"))
				a.proto = IPPROTO_MPTCP;
			else if (!strcmp(argv[i], "smc"))
				a.proto = IPPROTO_SMC;
			else if (strcmp(argv[i], "tcp"))
				usage();
		} else if (!strcmp(argv[i], "--seteuid"))
			a.seteuid_to = number(argv[++i], 0xfffffffe);
		else if (!strcmp(argv[i], "--handoff"))
			a.handoff_to = number(argv[++i], 0xfffffffe);
		else if (!strcmp(argv[i], "--count"))
			a.count = number(argv[++i], 100000000);
		else if (!strcmp(argv[i], "--seconds"))
			a.seconds = number(argv[++i], 3600);
		else if (!strcmp(argv[i], "--while"))
			a.while_path = argv[++i];
		else if (!strcmp(argv[i], "--unspec") && !strcmp(argv[i + 1], "yes"))
			a.unspec = 1, i++;
		else if (!strcmp(argv[i], "--ipopts") && !strcmp(argv[i + 1], "yes"))
			a.ipopts = 1, i++;
		else if (!strcmp(argv[i], "--move"))
			a.move = argv[++i];
		else
			usage();
	}
	if (strcmp(a.mode, "block") && strcmp(a.mode, "nonblock") &&
	    strcmp(a.mode, "fastopen") && strcmp(a.mode, "sendto"))
		usage();

	family = make_addr(a.addr, a.port, &ss, &len);
	if (a.unspec)
		ss.ss_family = AF_UNSPEC;
	if (a.count)
		return repeat(&a, family, &ss, len);
	if (a.seteuid_to >= 0 && seteuid(a.seteuid_to) < 0) {
		perror("seteuid");
		return 2;
	}
	fd = socket(family, a.type | (!strcmp(a.mode, "nonblock") ? SOCK_NONBLOCK : 0),
		    a.proto);
	if (fd < 0) {
		printf("{\"pid\":%d,\"result\":\"socket:%s\",\"errno\":%d,\"elapsed_us\":0}\n",
		       getpid(), strerrorname_np(errno), errno);
		return 3;
	}
	if (a.ipopts && set_ipopts(fd))
		return 2;
	if (a.move && move_to(a.move))
		return 2;
	if (a.handoff_to < 0)
		return run(&a, fd, &ss, len);

	child = fork();
	if (child < 0) {
		perror("fork");
		return 2;
	}
	if (child == 0) {
		if (setgroups(0, NULL) || setresgid(a.handoff_to, a.handoff_to, a.handoff_to) ||
		    setresuid(a.handoff_to, a.handoff_to, a.handoff_to)) {
			perror("drop privileges");
			_exit(2);
		}
		_exit(run(&a, fd, &ss, len));
	}
	close(fd);
	if (waitpid(child, &status, 0) < 0)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
