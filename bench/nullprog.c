// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nullprog: load bench/nullprog.bpf.c, attach both programs to a cgroup
 * with bpf_links, say so on stderr, and detach on SIGINT or SIGTERM.
 *
 *   nullprog [-v] CGROUP_DIR
 *
 * Prints "nullprog: attached to CGROUP_DIR" once both programs are in
 * place, and "nullprog: detached" when it exits 0. On any failure nothing
 * stays attached and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "nullprog.skel.h"
#include "tool.h"

static volatile sig_atomic_t stop;
static bool verbose;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: nullprog [-v] CGROUP_DIR\n");
	exit(TOOL_EXIT_USAGE);
}

static struct bpf_link *attach(struct bpf_program *prog, int cgfd)
{
	struct bpf_link *link = bpf_program__attach_cgroup(prog, cgfd);

	if (!link)
		tool_err("cannot attach %s: %s", bpf_program__name(prog),
			 strerror(errno));
	return link;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct nullprog_bpf *skel = NULL;
	struct bpf_link *link4 = NULL, *link6 = NULL;
	sigset_t block, old;
	int c, err, cgfd = -1, status = TOOL_EXIT_FAIL;

	while ((c = getopt(argc, argv, "v")) != -1) {
		if (c != 'v')
			usage();
		verbose = true;
	}
	if (argc - optind != 1)
		usage();
	libbpf_set_print(libbpf_print);

	/* Signals wait until sigsuspend, so none is lost before it. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &old) ||
	    sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		tool_err("cannot set up signals: %s", strerror(errno));
		return TOOL_EXIT_FAIL;
	}

	cgfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		tool_err("cannot open cgroup %s: %s", argv[optind],
			 strerror(errno));
		goto cleanup;
	}
	skel = nullprog_bpf__open();
	if (!skel) {
		tool_err("cannot open the BPF object: %s", strerror(errno));
		goto cleanup;
	}
	err = nullprog_bpf__load(skel);
	if (err) {
		tool_err("kernel refused to load the programs: %s (-v shows why)",
			 strerror(-err));
		goto cleanup;
	}
	link4 = attach(skel->progs.nfsg_null4, cgfd);
	if (!link4)
		goto cleanup;
	link6 = attach(skel->progs.nfsg_null6, cgfd);
	if (!link6)
		goto cleanup;

	tool_info("attached to %s", argv[optind]);
	while (!stop)
		sigsuspend(&old);
	status = 0;
cleanup:
	bpf_link__destroy(link6);
	bpf_link__destroy(link4);
	nullprog_bpf__destroy(skel);
	if (cgfd >= 0)
		close(cgfd);
	if (!status)
		tool_info("detached");
	return status;
}
