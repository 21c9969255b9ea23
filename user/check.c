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
	const char *policy;	/* list only this one */
};

static const char check_doc[] =
	"Check a configuration file (default " CONFIG_DEFAULT_PATH ") and "
	"print the policies it defines. Every problem is listed, one line "
	"each, with the file, the line and the value. Without FILE and with "
	"no file at the default path, it says that the embedded default "
	"policy would apply. Nothing is loaded into the kernel."
	"\v"
	"Examples:\n"
	"  nfsguard check                        # the installed configuration\n"
	"  nfsguard check ./new.conf && nfsguard reload\n"
	"  nfsguard check --policy kubepods      # one policy, or exit 1\n"
	"\n"
	EXIT_DOC("a valid file, or the embedded default",
		 "an invalid or unreadable file");

static const struct argp_option check_options[] = {
	{ "policy", 'p', "NAME", 0,
	  "List only the policy NAME; exit 1 if the file defines none of that name",
	  0 },
	{},
};

static error_t parse_check(int key, char *arg, struct argp_state *state)
{
	struct check_opts *o = state->input;

	switch (key) {
	case 'p':
		if (!*arg)
			argp_error(state, "--policy needs a name");
		o->policy = arg;
		return 0;
	case ARGP_KEY_ARG:
		if (o->file)
			argp_error(state, "unexpected argument '%s'", arg);
		o->file = arg;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp check_argp = {
	.options = check_options,
	.parser = parse_check,
	.args_doc = "[FILE]",
	.doc = check_doc,
};

/* The policies (or the one named), with cgroups and destinations. */
static void list_policies(const struct policy_set *set, const char *only)
{
	char what[512];
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		if (only && strcmp(set->p[i].k.name, only))
			continue;
		policy_describe(&set->p[i], what, sizeof(what));
		printf("  %-16s %s\n", set->p[i].k.name, what);
		for (j = 0; j < set->p[i].n_cgroups; j++) {
			printf("  %-16s   cgroup ", "");
			format_text_string(stdout, set->p[i].cgroups[j],
					   strlen(set->p[i].cgroups[j]), 0);
			putchar('\n');
		}
		for (j = 0; j < set->p[i].n_dests; j++) {
			policy_format_cidr(&set->p[i].dests[j], what, sizeof(what));
			printf("  %-16s   allow %s\n", "", what);
		}
	}
}

int cmd_check(int argc, char **argv)
{
	struct config_errors errs = {};
	struct config_agent ag = {};
	struct check_opts o = {};
	struct policy_set set = {};
	int err, status = EXIT_FAILURE;
	const char *file;
	size_t i;

	if (argp_parse(&check_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	file = o.file ? o.file : CONFIG_DEFAULT_PATH;
	err = config_read(file, &set, &ag, &errs);
	/* A file the agent could not start with is not valid either. */
	if (!err && config_agent_check(file, &ag, &errs))
		err = -EINVAL;
	if (err == -ENOENT && !o.file) {
		/* What the agent would do: not a claim about a file. */
		err = policy_set_default(&set);
		if (err) {
			log_err("out of memory");
			goto out;
		}
		if (o.policy && !policy_set_find(&set, o.policy)) {
			log_err("no policy '%s' in the embedded default: it has only 'default'",
				o.policy);
			goto out;
		}
		printf("no %s: the embedded default policy would apply, 1 policy\n",
		       file);
		goto listed;
	}
	if (err == -ENOENT) {
		log_err("%s: no such file: name an existing configuration file",
			file);
		goto out;
	}
	for (i = 0; i < errs.n; i++)
		log_err("%s", errs.msg[i]);
	if (err)
		goto out;
	if (o.policy && !policy_set_find(&set, o.policy)) {
		log_err("no policy '%s' in %s: see the names 'nfsguard check' lists",
			o.policy, file);
		goto out;
	}
	/* Nothing of the file's goes out raw: its name and paths escaped. */
	format_text_string(stdout, file, strlen(file), 0);
	printf(": valid, %zu polic%s\n", set.n, set.n == 1 ? "y" : "ies");
listed:
	list_policies(&set, o.policy);
	status = EXIT_SUCCESS;
out:
	config_errors_free(&errs);
	policy_set_free(&set);
	return status;
}
