// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard sockets: the connections (TCP, and connected UDP where UDP is
 * governed) to governed ports that exist now, in every network namespace
 * the agent can enter, each judged by the policy the running agent
 * enforces; --destroy aborts the violating ones. A
 * client of the agent's control socket: the agent owns the programs and
 * the policy, so the verdict is the one its hooks would give.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "control.h"
#include "log.h"

struct sockets_opts {
	const char *control;
	bool json;
	bool destroy;
};

static const char sockets_doc[] =
	"List every TCP connection to a port some policy governs, established "
	"or connecting, and every connected UDP socket to one where a policy "
	"governs UDP, in every network namespace the running agent can "
	"enter: its owner (uid), the processes holding it, its cgroup, "
	"network namespace, source, destination, state, the policy governing "
	"it and that policy's verdict today (allowed or violating). The agent "
	"judges each with the decision its hooks use. With --destroy, abort "
	"every violating one (mode enforce): its owner's next read or write "
	"fails at once; each is also an event of type existing."
	"\v"
	"Examples:\n"
	"  nfsguard sockets                      # two rows a socket\n"
	"  nfsguard sockets --json               # totals, then a line a socket\n"
	"  nfsguard sockets --destroy            # end the violating ones\n"
	"\n"
	"Exit status:\n"
	"  0   listed (and aborted, with --destroy, every violating one)\n"
	"  1   the agent failed, or an abort failed\n"
	"  3   no agent runs\n"
	"  64  bad arguments\n";

static const struct argp_option sockets_options[] = {
	{ "control", 'C', "PATH", 0,
	  "The agent's control socket (default " CONTROL_DEFAULT_PATH ")", 0 },
	{ "json", 'j', NULL, 0, "One JSON line of totals, then one a socket", 0 },
	{ "destroy", 'd', NULL, 0, "Abort every violating connection", 0 },
	{},
};

static error_t parse_sockets(int key, char *arg, struct argp_state *state)
{
	struct sockets_opts *o = state->input;

	switch (key) {
	case 'C':
		o->control = arg;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'd':
		o->destroy = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp sockets_argp = {
	.options = sockets_options,
	.parser = parse_sockets,
	.doc = sockets_doc,
};

int cmd_sockets(int argc, char **argv)
{
	struct sockets_opts o = { .control = CONTROL_DEFAULT_PATH };
	char request[128], *buf = NULL, *body;
	int status;
	bool ok;
	long n;

	if (argp_parse(&sockets_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	snprintf(request, sizeof(request),
		 "{\"cmd\":\"sockets\",\"format\":\"%s\",\"destroy\":%s}\n",
		 o.json ? "json" : "text", o.destroy ? "true" : "false");
	status = control_ask(o.control, request, 256 << 20,
			     "'systemctl start nfsguard' or 'nfsguard run' (the agent lists with the policy it enforces, pinned or not)",
			     &buf, &n);
	if (status)
		return status;
	status = EXIT_FAILURE;
	ok = !strncmp(buf, "{\"ok\":true", 10);
	body = strchr(buf, '\n');
	body = body ? body + 1 : buf + n;
	if (!ok) {
		fwrite(buf, 1, body - buf, stderr);
		goto out;
	}
	fwrite(o.json ? buf : body, 1, o.json ? (size_t)n : strlen(body), stdout);
	/* An abort that failed is a failure of the command. */
	status = strstr(buf, "\"failed\":0}") && strstr(buf, "\"failed\":0}") < body
			 ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	free(buf);
	return status;
}
