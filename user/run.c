// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard run and nfsguard trace: options into struct agent_opts, then
 * the agent (agent.h) until SIGINT/SIGTERM; SIGHUP reloads. 'trace' with
 * an agent serving the control socket follows that agent's events.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "commands.h"
#include "config.h"
#include "control.h"
#include "events.h"
#include "efs.h"
#include "log.h"
#include "parse.h"
#include "trace.h"

struct run_opts {
	struct agent_opts a;
	bool trace_cmd;		/* 'nfsguard trace' */
	bool rate_given;
	bool attach_given;	/* --cgroup */
	bool control_given;
};

static volatile int stop, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

/*
 * The options, as each command lists them in --help: 'run' has --trace,
 * which 'trace' implies. --cgroup attaches, in both as in every command;
 * --subtree is the filter by cgroup subtree.
 */
#define AGENT_OPTIONS                                                        \
	{ "cgroup", 'c', "PATH", 0,                                          \
	  "Attach to this cgroup (relative to the cgroup2 mount, or a full "  \
	  "path under it) instead of the cgroup2 root", 0 },                  \
	{ "config", 'f', "FILE", 0,                                          \
	  "Read the policy from FILE (default " CONFIG_DEFAULT_PATH           \
	  "; without it, the embedded default policy applies)", 0 },          \
	{ "json", 'j', NULL, 0, "Print events as JSON lines", 0 },           \
	{ "wide", 'w', NULL, 0,                                              \
	  "Text: every value whole (no 80-column cut), POLICY and NETNS "     \
	  "columns, and the details of tracing records", 0 },                 \
	{ "timestamp", 'T', NULL, 0,                                         \
	  "Text: DATE and TIME columns in front", 0 },                        \
	{ "persist", 'p', NULL, 0,                                           \
	  "Service mode: pin programs, links and maps so that enforcement "   \
	  "outlives the agent; adopt what an earlier agent pinned", 0 },      \
	{ "pin-dir", 'P', "DIR", 0,                                          \
	  "Where --persist pins (default " PERSIST_DEFAULT_DIR ")", 0 },      \
	{ "efs-utils-conf", 'E', "FILE", 0,                                  \
	  "Take the EFS TLS relay ports from FILE (default " EFS_UTILS_CONF   \
	  ")", 0 },                                                           \
	{ "control", 'C', "PATH", 0,                                         \
	  "Serve the control socket at PATH (default " CONTROL_DEFAULT_PATH   \
	  "; 'none': no socket)", 0 },                                        \
	{ "control-group", 'G', "GROUP", 0,                                  \
	  "Let GROUP use the control socket too (mode 0660); beats the "     \
	  "configuration's [agent] control_group", 0 },                       \
	{ "metrics", 'M', "ADDRESS:PORT", 0,                                 \
	  "Serve Prometheus metrics at http://ADDRESS:PORT/metrics; beats "   \
	  "the configuration's [agent] metrics", 0 },                         \
	{ "log-level", 'L', "LEVEL", 0,                                      \
	  "error, warning, info (default) or debug", 0 },                     \
	{ "verbose", 'v', NULL, 0,                                           \
	  "Show libbpf's messages and the verifier log", 0 }

#define TRACE_OPTIONS                                                        \
	{ "interval", 'i', "SECONDS", 0,                                     \
	  "Print a summary per destination every SECONDS instead of events "  \
	  "(implies --trace)", 1 },                                           \
	{ "uid", 'u', "UID", 0,                                              \
	  "Only events of these socket owners (repeat, or a list)", 1 },      \
	{ "pid", 'x', "PID", 0, "Only events of these processes", 1 },       \
	{ "comm", 'm', "NAME", 0, "Only events of tasks with these names", 1 }, \
	{ "subtree", 's', "PATH", 0,                                         \
	  "Only events of sockets created in these cgroup subtrees", 1 },    \
	{ "port", 'o', "PORT", 0, "Only events to these destination ports", 1 }, \
	{ "daddr", 'd', "CIDR", 0, "Only events to these addresses", 1 },    \
	{ "rate", 'r', "N", 0,                                               \
	  "At most N events a second per cgroup and uid (default 100; 0: no " \
	  "limit); what is held back is counted and reported", 1 },           \
	{ "burst", 'b', "N", 0, "Up to N events at once (default 100)", 1 }

static const struct argp_option run_options[] = {
	AGENT_OPTIONS,
	{ NULL, 0, NULL, 0, "Tracing and filters:", 1 },
	{ "trace", 't', NULL, 0,
	  "Also report allowed connects to governed ports: established (with "
	  "latency), reset, timed out or failed, and their close", 1 },
	TRACE_OPTIONS,
	{},
};

static const struct argp_option trace_options[] = {
	AGENT_OPTIONS,
	{ NULL, 0, NULL, 0, "Filters:", 1 },
	TRACE_OPTIONS,
	{},
};

/* Both commands' exit statuses, for their --help. */
#define RUN_EXIT_DOC                                                         \
	EXIT_DOC_MORE("stopped by SIGINT or SIGTERM (detached, or left pinned)", \
		      "could not start (one line says why), or failed while running", \
		      "  " EXIT_STR(EXIT_UNINSTALLED) "   stopped by 'nfsguard uninstall' (the unit "   \
		      "does not restart it)\n")

static const char run_doc[] =
	"Load nfsguard's programs, enforce the policy (by default the EFS "
	"owner rule: only uid 0 may open TCP connections to port 2049), and "
	"print each refused or audited connect until SIGINT or SIGTERM, which "
	"detach and exit 0. SIGHUP (or 'nfsguard reload') re-reads the "
	"configuration."
	"\v"
	"Examples:\n"
	"  nfsguard run                          # enforce machine-wide\n"
	"  nfsguard run --json | jq .            # events as JSON lines\n"
	"  nfsguard run --cgroup /system.slice   # one subtree only\n"
	"  nfsguard run --config ./test.conf     # another policy file\n"
	"  nfsguard run --persist                # as a service: survives the agent\n"
	"\n"
	RUN_EXIT_DOC;

static error_t parse_run(int key, char *arg, struct argp_state *state)
{
	struct run_opts *r = state->input;
	struct agent_opts *o = &r->a;
	char why[128], host[64];
	__u16 port;

	switch (key) {
	case 'c':
		if (!*arg)
			argp_error(state, "--cgroup needs a path");
		o->cgroup = arg;
		r->attach_given = true;
		return 0;
	case 's':
		if (filter_add(&o->filters, FILTER_CGROUP, arg, why, sizeof(why)))
			argp_error(state, "%s: '%s'", why, arg);
		return 0;
	case 'w':
		format_text_flags |= FORMAT_WIDE;
		return 0;
	case 'T':
		format_text_flags |= FORMAT_TIMESTAMP;
		return 0;
	case 'f':
		if (!*arg)
			argp_error(state, "--config needs a file");
		o->config = arg;
		return 0;
	case 'j':
		o->format = FORMAT_JSON;
		return 0;
	case 'p':
		o->persist = true;
		return 0;
	case 'P':
		if (arg[0] != '/')
			argp_error(state, "--pin-dir needs an absolute path");
		o->pin_dir = arg;
		return 0;
	case 'E':
		if (arg[0] != '/')
			argp_error(state, "--efs-utils-conf needs an absolute path");
		o->efs_conf = arg;
		return 0;
	case 'C':
		if (strcmp(arg, "none") && arg[0] != '/')
			argp_error(state, "--control needs an absolute path, or none");
		o->control = strcmp(arg, "none") ? arg : NULL;
		r->control_given = true;
		return 0;
	case 'G':
		if (!parse_group_name(arg))
			argp_error(state, "--control-group needs a group's name, not '%s'",
				   arg);
		o->control_group = arg;
		return 0;
	case 'M':
		if (!parse_host_port(arg, host, sizeof(host), &port))
			argp_error(state, "--metrics needs ADDRESS:PORT (127.0.0.1:9108, [::1]:9108), not '%s'",
				   arg);
		o->metrics = arg;
		return 0;
	case 'L':
		if (!log_parse_level(arg, &log_level))
			argp_error(state, "--log-level is error, warning, info or debug, not '%s'",
				   arg);
		return 0;
	case 't':
		o->trace = true;
		return 0;
	case 'i':
		if (!parse_u32(arg, 1, 86400, &o->interval))
			argp_error(state, "--interval needs seconds from 1 to 86400, not '%s'",
				   arg);
		o->trace = true;
		return 0;
	case 'r':
		if (!parse_u32(arg, 0, 1000000, &o->rl_rate))
			argp_error(state, "--rate needs events per second from 0 to 1000000, not '%s'",
				   arg);
		r->rate_given = true;
		return 0;
	case 'b':
		if (!parse_u32(arg, 1, 1000000, &o->rl_burst))
			argp_error(state, "--burst needs a number from 1 to 1000000, not '%s'",
				   arg);
		return 0;
	case 'v':
		log_verbose = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	case ARGP_KEY_END:
		/* Text columns only: JSON lines are whole and dated anyway. */
		if (o->format == FORMAT_JSON)
			format_text_flags = 0;
		/* Summaries count every attempt: no limit unless asked for. */
		if (o->interval && !r->rate_given)
			o->rl_rate = 0;
		return 0;
	}
	return events_filter_option(key, arg, &o->filters, state);
}

static const struct argp run_argp = {
	.options = run_options,
	.parser = parse_run,
	.doc = run_doc,
};

static const char trace_doc[] =
	"Enforce like 'nfsguard run' and trace every connect attempt to a "
	"governed port: refused ones, and allowed ones to their outcome "
	"(established with its latency, reset by the server, timed out, failed "
	"locally) and their close (lifetime, bytes). Filters apply in the "
	"kernel. --cgroup says where to attach, as in 'run' (default the "
	"cgroup2 root); --subtree filters by cgroup subtree. Without --cgroup, "
	"and with an agent serving its control socket, it follows that "
	"agent's events instead."
	"\v"
	"Examples:\n"
	"  nfsguard trace                        # every NFS connect\n"
	"  nfsguard trace --uid 1000 --json      # one user's, as JSON\n"
	"  nfsguard trace --daddr 10.0.0.0/8 --port 2049\n"
	"  nfsguard trace --subtree /kubepods.slice --interval 10\n"
	"\n"
	RUN_EXIT_DOC;

static const struct argp trace_argp = {
	.options = trace_options,
	.parser = parse_run,
	.doc = trace_doc,
};

/* trace, with a service already serving: be one of its readers. */
static bool serving(const struct run_opts *r)
{
	int fd;

	if (!r->trace_cmd || r->attach_given || !r->a.control)
		return false;
	fd = control_connect(r->a.control, "");
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int run_main(int argc, char **argv, bool trace_cmd)
{
	struct run_opts r = { .a = { .format = FORMAT_TEXT,
				     .pin_dir = PERSIST_DEFAULT_DIR,
				     .control = CONTROL_DEFAULT_PATH,
				     .trace = trace_cmd,
				     .rl_rate = TRACE_DEFAULT_RATE,
				     .rl_burst = TRACE_DEFAULT_BURST },
			      .trace_cmd = trace_cmd };
	struct sigaction sa = { .sa_handler = on_signal };
	struct nfsg_agent *a;
	int err, status;

	if (argp_parse(trace_cmd ? &trace_argp : &run_argp, argc, argv, 0, NULL,
		       &r))
		return EXIT_USAGE;
	if (serving(&r)) {
		log_info("an agent serves %s: following its events", r.a.control);
		return events_stream(r.a.control, r.a.format == FORMAT_JSON, true,
				     0, &r.a.filters);
	}
	log_setup_libbpf();
	if (probe_privileges() || probe_btf())
		return EXIT_FAILURE;
	a = calloc(1, sizeof(*a));
	if (!a) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	/* No SA_RESTART: a signal must interrupt the wait. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = agent_start(a, &r.a);
	if (!err) {
		err = agent_loop(a, &stop, &reload);
		agent_stop(a);
	}
	status = err ? EXIT_FAILURE
		     : a->quit ? EXIT_UNINSTALLED : EXIT_SUCCESS;
	agent_destroy(a);
	free(a);
	return status;
}

int cmd_run(int argc, char **argv)
{
	return run_main(argc, argv, false);
}

int cmd_trace(int argc, char **argv)
{
	return run_main(argc, argv, true);
}
