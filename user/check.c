// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nfsguard check [FILE]: validate a configuration without the kernel. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "config.h"
#include "format.h"
#include "log.h"
#include "policy.h"

struct check_opts {
	const char *file;
};

static const char check_doc[] =
	"Check a configuration file (default " CONFIG_DEFAULT_PATH ") and "
	"print the policies it defines. Every problem is listed, one line "
	"each, with the file, the line and the value; the exit status is 0 "
	"only for a valid file. Nothing is loaded into the kernel."
	"\v"
	"Examples:\n"
	"  nfsguard check                        # the installed configuration\n"
	"  nfsguard check ./new.conf && nfsguard reload\n";

static error_t parse_check(int key, char *arg, struct argp_state *state)
{
	struct check_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (o->file)
			argp_error(state, "unexpected argument '%s'", arg);
		o->file = arg;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp check_argp = {
	.parser = parse_check,
	.args_doc = "[FILE]",
	.doc = check_doc,
};

int cmd_check(int argc, char **argv)
{
	struct check_opts o = {};
	struct policy_set set;
	const char *file;
	char what[512];
	size_t i, j;

	if (argp_parse(&check_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	if (config_load(o.file, &set))
		return EXIT_FAILURE;
	/* Nothing of the file's goes out raw: its name and paths escaped. */
	file = o.file ? o.file : CONFIG_DEFAULT_PATH;
	format_text_string(stdout, file, strlen(file), 0);
	printf(": valid, %zu polic%s\n", set.n, set.n == 1 ? "y" : "ies");
	for (i = 0; i < set.n; i++) {
		policy_describe(&set.p[i], what, sizeof(what));
		printf("  %-16s %s\n", set.p[i].k.name, what);
		for (j = 0; j < set.p[i].n_cgroups; j++) {
			printf("  %-16s   cgroup ", "");
			format_text_string(stdout, set.p[i].cgroups[j],
					   strlen(set.p[i].cgroups[j]), 0);
			putchar('\n');
		}
		for (j = 0; j < set.p[i].n_dests; j++) {
			policy_format_cidr(&set.p[i].dests[j], what, sizeof(what));
			printf("  %-16s   allow %s\n", "", what);
		}
	}
	policy_set_free(&set);
	return EXIT_SUCCESS;
}
