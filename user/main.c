// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nfsguard: the command line. It only dispatches to a subcommand. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "probe.h"

const char *argp_program_version = "nfsguard " NFSG_VERSION;
error_t argp_err_exit_status = EXIT_USAGE;

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "run", cmd_run },
	{ "trace", cmd_trace },
	{ "check", cmd_check },
	{ "status", cmd_status },
	{ "reload", cmd_reload },
	{ "events", cmd_events },
	{ "uninstall", cmd_uninstall },
	{ "probe", cmd_probe },
	{ "sockets", cmd_sockets },
};

static const char doc[] =
	"Refuse unprivileged sockets to NFS ports at connect time.\n"
	"\n"
	"Commands:\n"
	"  run      load the programs, enforce the policy, stream events\n"
	"  trace    run, and follow every connect to a governed port to its end\n"
	"  check    validate a configuration file without touching the kernel\n"
	"  status   show the running agent (or its pins): policy, counters\n"
	"  reload   make the running agent re-read its configuration\n"
	"  events   stream the running agent's events live\n"
	"  uninstall  remove what 'run --persist' pinned, detaching it\n"
	"  probe    show what this kernel offers nfsguard, and what it uses\n"
	"  sockets  list connections to governed ports, judged; --destroy ends them\n"
	"\n"
	"Run 'nfsguard COMMAND --help' for a command's options.\n"
	"\n"
	"Examples:\n"
	"  nfsguard run                      # enforce on the whole machine\n"
	"  nfsguard run --json               # events as JSON lines\n"
	"  nfsguard run --cgroup /kubepods   # only sockets of that cgroup\n"
	"  nfsguard trace --uid 1000         # follow one user's NFS connects\n"
	"\n"
	"Exit status:\n"
	"  0   success\n"
	"  1   failure (the cause is on stderr, one line)\n"
	"  3   status, reload: no agent runs\n"
	"  64  bad arguments\n"
	"\n"
	"See nfsguard(8).\n";

struct top {
	int cmd_index;
};

static error_t parse_top(int key, char *arg, struct argp_state *state)
{
	struct top *t = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_ARG:
		/* The first word is the command; the rest is its business. */
		t->cmd_index = state->next - 1;
		state->next = state->argc;
		return 0;
	case ARGP_KEY_END:
		if (t->cmd_index < 0)
			argp_error(state, "no command given");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp top_argp = {
	.parser = parse_top,
	.args_doc = "COMMAND [OPTION...]",
	.doc = doc,
};

/* glibc takes a size only with a buffer. */
static char stdout_buf[1U << 16];

int main(int argc, char **argv)
{
	struct top t = { .cmd_index = -1 };
	char name[64];
	size_t i;
	int err;

	/* Not to a terminal, stdout is written a buffer at a time: make it
	 * hold what an agent prints between its flushes (agent.c, FLUSH_MS),
	 * not stdio's 4 KiB, so that a flood costs a write() per 64 KiB of
	 * events. A terminal keeps its line buffering. Before any output, as
	 * setvbuf() must be. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	err = argp_parse(&top_argp, argc, argv, ARGP_IN_ORDER, NULL, &t);
	if (err)
		return EXIT_USAGE;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[t.cmd_index], commands[i].name))
			continue;
		/* The command sees "nfsguard NAME" as its program name. */
		snprintf(name, sizeof(name), "nfsguard %s", commands[i].name);
		argv[t.cmd_index] = name;
		probe_command = name;
		return commands[i].fn(argc - t.cmd_index, argv + t.cmd_index);
	}
	fprintf(stderr, "nfsguard: unknown command '%s': see 'nfsguard --help'\n",
		argv[t.cmd_index]);
	return EXIT_USAGE;
}
