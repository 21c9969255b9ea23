// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard uninstall: stop the agents that hold the pinned enforcement,
 * then remove every pin, which detaches the hooks and frees the programs
 * and maps. Only nfsguard's own pins are touched.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "commands.h"
#include "discover.h"
#include "log.h"
#include "persist.h"
#include "probe.h"

#define STOP_WAIT_MS 5000

struct uninstall_opts {
	const char *pin_dir;
};

static const char uninstall_doc[] =
	"Remove the enforcement that 'nfsguard run --persist' pinned: stop the "
	"agent that holds it, detach its hooks and unpin its maps, and say "
	"what was removed. Other programs on the same hooks are left alone."
	"\v"
	"Examples:\n"
	"  nfsguard uninstall\n"
	"  nfsguard uninstall --pin-dir /sys/fs/bpf/nfsguard-test\n"
	"\n"
	EXIT_DOC("removed, or nothing was pinned",
		 "something was kept (named on stderr), or an agent would not stop");

static const struct argp_option uninstall_options[] = {
	{ "pin-dir", 'P', "DIR", 0,
	  "The pin directory (default " PERSIST_DEFAULT_DIR ")", 0 },
	{},
};

static error_t parse_uninstall(int key, char *arg, struct argp_state *state)
{
	struct uninstall_opts *o = state->input;

	switch (key) {
	case 'P':
		if (arg[0] != '/')
			argp_error(state, "--pin-dir needs an absolute path");
		o->pin_dir = arg;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp uninstall_argp = {
	.options = uninstall_options,
	.parser = parse_uninstall,
	.doc = uninstall_doc,
};

/* The id of the link pinned in d under name, or 0. */
static __u32 pinned_link_id(const struct pin_dir *d, const char *name)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	struct stat st;
	int fd;

	/* Only a regular pin: never follow a link planted under our name. */
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
		return 0;
	pin_dir_path(d, name, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* Running, that is: neither gone nor a zombie its parent has not reaped. */
static bool alive(pid_t pid)
{
	char path[64], stat[256], *state;
	FILE *f;
	bool run;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	run = fgets(stat, sizeof(stat), f) && (state = strrchr(stat, ')')) &&
	      state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
	fclose(f);
	return run;
}

/* SIGTERM each agent holding link id (the pinned connect4); wait. */
static int stop_holders(__u32 id)
{
	struct timespec nap = { .tv_nsec = 10 * 1000000 };
	struct agent *agents = NULL;
	size_t n = 0, i, l;
	int waited, err;

	if (!id)
		return 0;
	err = discover_agents(&agents, &n);
	if (err) {
		log_err("cannot look for agents in /proc: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < n; i++) {
		for (l = 0; l < agents[i].n_links; l++)
			if (agents[i].links[l].link_id == id)
				break;
		if (l == agents[i].n_links)
			continue;
		printf("stopping agent %d\n", agents[i].pid);
		kill(agents[i].pid, SIGTERM);
		for (waited = 0; alive(agents[i].pid) && waited < STOP_WAIT_MS;
		     waited += 10)
			nanosleep(&nap, NULL);
		if (alive(agents[i].pid)) {
			log_err("agent %d did not stop: kill it, then run uninstall again",
				agents[i].pid);
			err = -EBUSY;
		}
	}
	free(agents);
	return err;
}

int cmd_uninstall(int argc, char **argv)
{
	struct uninstall_opts o = { .pin_dir = PERSIST_DEFAULT_DIR };
	struct pin_dir d = {};
	int n, err, status = EXIT_FAILURE;
	__u32 id;

	if (argp_parse(&uninstall_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	if (probe_privileges())
		return EXIT_FAILURE;
	/* Checked as 'run --persist' checks it; then used only by its fd. */
	err = pin_dir_open(&d, o.pin_dir, PIN_DIR_EXISTING);
	if (err == -ENOENT) {
		printf("nothing pinned in %s\n", o.pin_dir);
		return EXIT_SUCCESS;
	}
	if (err)
		return EXIT_FAILURE;
	/*
	 * Unpin first, then stop the agent that holds the links: it keeps
	 * enforcing until it exits, and it sees, and says, that nothing is
	 * pinned any more. Its link, named before the pins go.
	 */
	id = pinned_link_id(&d, "link_connect4");
	n = persist_remove(&d, o.pin_dir);
	if (n < 0)
		goto out;
	if (id && stop_holders(id))
		goto out;
	printf("removed %d pins and %s: nfsguard's hooks are detached\n", n,
	       o.pin_dir);
	status = EXIT_SUCCESS;
out:
	pin_dir_close(&d);
	return status;
}
