// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard reload: ask the running agent, over its control socket, to
 * re-read its configuration, and print its answer: the new generation, or
 * every error with the file and the line. Non-zero at once on a bad file.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"
#include "commands.h"
#include "control.h"
#include "log.h"

struct reload_opts {
	const char *control;
	bool json;
};

static const char reload_doc[] =
	"Make the running agent re-read its configuration and switch to it "
	"atomically, and print its answer. An invalid configuration leaves the "
	"running policy in place; reload then prints every error (FILE:LINE) "
	"and exits 1. A changed [agent] setting is a warning: it takes a "
	"restart. With no agent running, it exits 3."
	"\v"
	"Examples:\n"
	"  nfsguard check && nfsguard reload\n"
	"  nfsguard reload --json\n"
	"\n"
	"Exit status:\n"
	"  0   the agent switched to the new configuration\n"
	"  1   it kept its running policy (the file is invalid), or failed\n"
	"  3   no agent runs\n"
	"  64  bad arguments\n";

static const struct argp_option reload_options[] = {
	{ "control", 'C', "PATH", 0,
	  "The agent's control socket (default " CONTROL_DEFAULT_PATH ")", 0 },
	{ "json", 'j', NULL, 0, "Print the agent's answer as one JSON object", 0 },
	{},
};

static error_t parse_reload(int key, char *arg, struct argp_state *state)
{
	struct reload_opts *o = state->input;

	switch (key) {
	case 'C':
		o->control = arg;
		return 0;
	case 'j':
		o->json = true;
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

int cmd_reload(int argc, char **argv)
{
	struct reload_opts o = { .control = CONTROL_DEFAULT_PATH };
	char *buf = NULL, *body;
	int status;
	bool ok;
	long n;

	if (argp_parse(&reload_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	status = control_ask(o.control,
			     o.json ? "{\"cmd\":\"reload\",\"format\":\"json\"}\n"
				    : "{\"cmd\":\"reload\",\"format\":\"text\"}\n",
			     16 << 20, "'nfsguard run'", &buf, &n);
	if (status)
		return status;
	/* The first line says: {"ok":true... or {"ok":false... */
	ok = !strncmp(buf, "{\"ok\":true", 10);
	body = strchr(buf, '\n');
	body = body ? body + 1 : buf + n;
	if (o.json)
		fwrite(buf, 1, body - buf, stdout);
	else
		fputs(body, ok ? stdout : stderr);
	status = ok ? EXIT_SUCCESS : EXIT_FAILURE;
	free(buf);
	return status;
}
