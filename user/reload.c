// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard reload: send SIGHUP to the running agents and wait until each
 * has switched generation, which it does only for a valid configuration.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"
#include "commands.h"
#include "discover.h"
#include "log.h"
#include "probe.h"

#define RELOAD_WAIT_MS 5000

struct reload_opts {
	const char *cgroup;
};

static const char reload_doc[] =
	"Make each running agent (or the one attached to --cgroup) re-read its "
	"configuration and switch to it atomically. An agent whose new "
	"configuration is invalid keeps its running policy; reload then fails."
	"\v"
	"Examples:\n"
	"  nfsguard check && nfsguard reload\n"
	"  nfsguard reload --cgroup /kubepods.slice\n";

static const struct argp_option reload_options[] = {
	{ "cgroup", 'c', "PATH", 0,
	  "Only the agent attached to this cgroup", 0 },
	{},
};

static error_t parse_reload(int key, char *arg, struct argp_state *state)
{
	struct reload_opts *o = state->input;

	switch (key) {
	case 'c':
		if (!*arg)
			argp_error(state, "--cgroup needs a path");
		o->cgroup = arg;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp reload_argp = {
	.options = reload_options,
	.parser = parse_reload,
	.doc = reload_doc,
};

static int active_gen(struct agent *a, __u32 *gen)
{
	struct agent_maps m;
	int err = discover_maps(a, &m);

	if (!err)
		err = discover_active_gen(&m, gen);
	discover_maps_close(&m);
	return err;
}

static int reload_one(struct agent *a)
{
	struct timespec nap = { .tv_nsec = 10 * 1000000 };
	__u32 before, now;
	int waited, err;

	err = active_gen(a, &before);
	if (err) {
		log_err("agent %d: cannot read its state: %s", a->pid,
			strerror(-err));
		return err;
	}
	if (kill(a->pid, SIGHUP)) {
		log_err("agent %d: cannot signal it: %s", a->pid,
			strerror(errno));
		return -errno;
	}
	for (waited = 0; waited < RELOAD_WAIT_MS; waited += 10) {
		nanosleep(&nap, NULL);
		if (!active_gen(a, &now) && now != before) {
			printf("agent %d: reloaded, generation %u active\n",
			       a->pid, now);
			return 0;
		}
	}
	log_err("agent %d did not switch within %d s and keeps its running policy: its configuration is invalid, or it is busy (run 'nfsguard check' and see the agent's log)",
		a->pid, RELOAD_WAIT_MS / 1000);
	return -EINVAL;
}

int cmd_reload(int argc, char **argv)
{
	struct reload_opts o = {};
	struct agent *agents = NULL;
	struct cgroup2 *cg = NULL;
	size_t n = 0, i, done = 0;
	__u64 want = 0;
	int err, fd, status = EXIT_SUCCESS;

	if (argp_parse(&reload_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	if (probe_privileges())
		return EXIT_FAILURE;
	if (o.cgroup) {
		cg = calloc(1, sizeof(*cg));
		err = cg ? cgroup2_open(cg) : -ENOMEM;
		if (!err)
			err = cgroup_open(cg, o.cgroup, &fd, &want);
		if (err) {
			log_err("cannot find cgroup '%s': %s", o.cgroup,
				strerror(-err));
			status = EXIT_FAILURE;
			goto out;
		}
		close(fd);
	}
	err = discover_agents(&agents, &n);
	if (err) {
		log_err("cannot look for agents in /proc: %s", strerror(-err));
		status = EXIT_FAILURE;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (o.cgroup && agents[i].cgroup_id != want)
			continue;
		done++;
		if (reload_one(&agents[i]))
			status = EXIT_FAILURE;
	}
	if (!done) {
		log_err("no running agent%s%s: start one with 'nfsguard run'",
			o.cgroup ? " attached to " : "", o.cgroup ? o.cgroup : "");
		status = 3;
	}
out:
	free(agents);
	if (cg)
		cgroup2_close(cg);
	free(cg);
	return status;
}
