// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nullprog: load bench/nullprog.bpf.c, attach its null programs to a
 * cgroup with bpf_links, say so on stderr, and detach on SIGINT or SIGTERM.
 *
 *   nullprog [-v] [-E] CGROUP_DIR
 *   nullprog [-v] -H TREE CGROUP_DIR
 *
 * It attaches nfsg_null4 and nfsg_null6; with -E also nfsg_null_eg on
 * cgroup_skb/egress, so that the null programs sit on every hook
 * nfsguard's own TCP path uses.
 * With -H, it attaches nfsg_hash4 instead, its hash holding the cgroup id
 * of CGROUP_DIR and then of every other directory in TREE, in that order
 * (see fill()): the twin of nfsguard's cgroup map, sized as nfsguard sizes
 * it (twice the entries, plus 64) and, like it, BPF_F_NO_PREALLOC.
 * Prints "nullprog: attached to CGROUP_DIR: program id ID, N entries" once the programs are in place, and "nullprog: detached"
 * when it exits 0, after checking (with -H) that every lookup found its
 * key. On any failure nothing stays attached and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
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
	fprintf(stderr, "usage: nullprog [-v] [-E | -H TREE] CGROUP_DIR\n");
	exit(TOOL_EXIT_USAGE);
}

/* The subdirectories of tree: how many, or -1 after saying why. */
static long count_dirs(const char *tree)
{
	struct dirent *d;
	long n = 0;
	DIR *dir = opendir(tree);

	if (!dir) {
		tool_err("cannot open %s: %s", tree, strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)))
		n += d->d_type == DT_DIR && d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* A cgroup2 directory's id is its inode number; *ino gets it. */
static int add_id(int fd, int dirfd, const char *name, ino_t *ino)
{
	__u32 idx = 1;
	struct stat st;

	if (fstatat(dirfd, name, &st, 0)) {
		tool_err("cannot stat cgroup %s: %s", name, strerror(errno));
		return -1;
	}
	if (bpf_map_update_elem(fd, &(__u64){ st.st_ino }, &idx, BPF_NOEXIST)) {
		tool_err("cannot fill the hash: %s", strerror(errno));
		return -1;
	}
	*ino = st.st_ino;
	return 0;
}

/*
 * cgroup, then every other subdirectory of tree: 0, or -1 after saying
 * why. cgroup goes in first, as the bench's client cgroup does in
 * nfsguard's table (its policy names the client first): a hash chains the
 * entries of a bucket newest first, so where the looked-up key sits in its
 * chain depends on the order of insertion, and the twin keeps nfsguard's.
 */
static int fill(int fd, const char *tree, const char *cgroup, long *n)
{
	struct dirent *d;
	DIR *dir = opendir(tree);
	ino_t first, ino;
	int err;

	*n = 0;
	if (!dir) {
		tool_err("cannot open %s: %s", tree, strerror(errno));
		return -1;
	}
	err = add_id(fd, AT_FDCWD, cgroup, &first);
	*n += !err;
	while (!err && (d = readdir(dir)))
		if (d->d_type == DT_DIR && d->d_name[0] != '.' &&
		    d->d_ino != first) {
			err = add_id(fd, dirfd(dir), d->d_name, &ino);
			++*n;
		}
	closedir(dir);
	return err;
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
	struct bpf_link *link4 = NULL, *link6 = NULL, *link_eg = NULL;
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	const char *tree = NULL;
	sigset_t block, old;
	int c, err, cgfd = -1, status = TOOL_EXIT_FAIL;
	bool egress = false;
	long entries = 0;

	while ((c = getopt(argc, argv, "vEH:")) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'H':
			tree = optarg;
			break;
		case 'E':
			egress = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || (egress && tree))
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
	bpf_program__set_autoload(skel->progs.nfsg_null4, !tree);
	bpf_program__set_autoload(skel->progs.nfsg_null6, !tree);
	bpf_program__set_autoload(skel->progs.nfsg_null_eg, egress);
	bpf_program__set_autoload(skel->progs.nfsg_hash4, !!tree);
	if (tree) {
		entries = count_dirs(tree);
		if (entries < 0)
			goto cleanup;
		err = bpf_map__set_max_entries(skel->maps.nfsg_hash,
					       2 * entries + 64);
		if (!err)
			err = bpf_map__set_map_flags(skel->maps.nfsg_hash,
						     BPF_F_NO_PREALLOC);
		if (err) {
			tool_err("cannot size the hash: %s", strerror(-err));
			goto cleanup;
		}
	}
	err = nullprog_bpf__load(skel);
	if (err) {
		tool_err("kernel refused to load the programs: %s (-v shows why)",
			 strerror(-err));
		goto cleanup;
	}
	if (tree) {
		if (fill(bpf_map__fd(skel->maps.nfsg_hash), tree, argv[optind],
			 &entries))
			goto cleanup;
		link4 = attach(skel->progs.nfsg_hash4, cgfd);
		if (!link4)
			goto cleanup;
	} else {
		link4 = attach(skel->progs.nfsg_null4, cgfd);
		if (!link4)
			goto cleanup;
		link6 = attach(skel->progs.nfsg_null6, cgfd);
		if (!link6)
			goto cleanup;
		if (egress) {
			link_eg = attach(skel->progs.nfsg_null_eg, cgfd);
			if (!link_eg)
				goto cleanup;
		}
	}
	err = bpf_obj_get_info_by_fd(bpf_program__fd(tree ?
			skel->progs.nfsg_hash4 : skel->progs.nfsg_null4),
			&info, &info_len);
	if (err) {
		tool_err("cannot read the program's id: %s", strerror(-err));
		goto cleanup;
	}

	tool_info("attached to %s: program id %u, %ld entries", argv[optind],
		  info.id, entries);
	while (!stop)
		sigsuspend(&old);
	status = 0;
	/* A lookup that missed measured a miss, not the table: say so. */
	if (tree && skel->bss->misses) {
		tool_err("%llu lookups missed their key",
			 (unsigned long long)skel->bss->misses);
		status = TOOL_EXIT_FAIL;
	}
cleanup:
	bpf_link__destroy(link_eg);
	bpf_link__destroy(link6);
	bpf_link__destroy(link4);
	nullprog_bpf__destroy(skel);
	if (cgfd >= 0)
		close(cgfd);
	if (!status)
		tool_info("detached");
	return status;
}
