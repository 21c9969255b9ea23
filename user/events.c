// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard events: stream the running agent's events live, over its
 * control socket, with filters; any number of readers at once. 'nfsguard
 * trace' becomes this when an agent already serves the socket.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "control.h"
#include "ctl_proto.h"
#include "events.h"
#include "filter.h"
#include "log.h"
#include "parse.h"

struct events_opts {
	const char *control;
	bool json, trace;
	__u32 queue;
	struct event_filter f;
};

static const char events_doc[] =
	"Stream the running agent's events as they happen: refused and audited "
	"connects, cgroup events, and with --trace the outcome of allowed "
	"connects (if the agent traces). Filters may repeat or take lists: a "
	"key's values add up, different keys narrow. A reader that falls "
	"behind loses events, never slows the agent, and is told how many it "
	"missed."
	"\v"
	"Examples:\n"
	"  nfsguard events\n"
	"  nfsguard events --json --uid 1000,1001 --port 2049\n"
	"  nfsguard events --subtree /kubepods.slice --subtree /system.slice\n"
	"\n"
	"Exit status:\n"
	"  0   the agent stopped, or the output was closed\n"
	"  1   the events could not be read\n"
	"  3   no agent runs\n"
	"  64  bad arguments\n";

static const struct argp_option events_options[] = {
	{ "control", 'C', "PATH", 0,
	  "The agent's control socket (default " CONTROL_DEFAULT_PATH ")", 0 },
	{ "json", 'j', NULL, 0, "Print events as JSON lines", 0 },
	{ "trace", 't', NULL, 0, "Also the outcomes of allowed connects", 0 },
	{ "queue", 'q', "BYTES", 0,
	  "How much the agent keeps for this reader (default 4 MiB)", 0 },
	{ "uid", 'u', "UID", 0, "Only events of these socket owners", 1 },
	{ "pid", 'x', "PID", 0, "Only events of these processes", 1 },
	{ "comm", 'm', "NAME", 0, "Only events of tasks with these names", 1 },
	{ "subtree", 's', "PATH", 0,
	  "Only events of sockets created in these cgroup subtrees", 1 },
	{ "port", 'o', "PORT", 0, "Only events to these destination ports", 1 },
	{ "daddr", 'd', "CIDR", 0, "Only events to these addresses", 1 },
	{},
};

int events_filter_option(int key, const char *arg, struct event_filter *f,
			 struct argp_state *state)
{
	static const char keys[] = { [FILTER_UID] = 'u', [FILTER_PID] = 'x',
				     [FILTER_COMM] = 'm', [FILTER_CGROUP] = 's',
				     [FILTER_PORT] = 'o', [FILTER_DADDR] = 'd' };
	char why[128];
	int k;

	for (k = 0; k < FILTER_KEYS; k++)
		if (keys[k] == key)
			break;
	if (k == FILTER_KEYS)
		return ARGP_ERR_UNKNOWN;
	if (filter_add(f, k, arg, why, sizeof(why)))
		argp_error(state, "%s: '%s'", why, arg);
	return 0;
}

static error_t parse_events(int key, char *arg, struct argp_state *state)
{
	struct events_opts *o = state->input;

	switch (key) {
	case 'C':
		o->control = arg;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 't':
		o->trace = true;
		return 0;
	case 'q':
		if (!parse_u32(arg, CTL_QUEUE_MIN, CTL_QUEUE_MAX, &o->queue))
			argp_error(state, "--queue needs bytes from %u to %u, not '%s'",
				   CTL_QUEUE_MIN, CTL_QUEUE_MAX, arg);
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return events_filter_option(key, arg, &o->f, state);
}

static const struct argp events_argp = {
	.options = events_options,
	.parser = parse_events,
	.doc = events_doc,
};

/* f's key k as a JSON array onto m. */
static void put_key(FILE *m, const struct event_filter *f, int k)
{
	char text[64];
	__u8 i;

	if (!f->n[k])
		return;
	fprintf(m, ",\"%s\":[", filter_key_name(k));
	for (i = 0; i < f->n[k]; i++) {
		fputs(i ? "," : "", m);
		switch (k) {
		case FILTER_UID:
			fprintf(m, "%u", f->uid[i]);
			break;
		case FILTER_PID:
			fprintf(m, "%u", f->pid[i]);
			break;
		case FILTER_PORT:
			fprintf(m, "%u", f->port[i]);
			break;
		case FILTER_COMM:
			format_json_string(m, f->comm[i], NFSG_COMM_LEN);
			break;
		case FILTER_CGROUP:
			format_json_string(m, f->cgroup[i], NFSG_PATH_LEN);
			break;
		default:
			policy_format_cidr(&f->daddr[i], text, sizeof(text));
			format_json_string(m, text, sizeof(text));
		}
	}
	fputs("]", m);
}

static volatile sig_atomic_t stopped;

static void on_stop(int sig)
{
	(void)sig;
	stopped = 1;
}

int events_stream(const char *control, bool json, bool trace, __u32 queue,
		  const struct event_filter *f)
{
	struct sigaction sa = { .sa_handler = on_stop };
	char *req = NULL, buf[65536], *nl;
	size_t len = 0, have = 0, skip;
	bool first = true;
	FILE *m;
	ssize_t n;
	int fd, k, status = EXIT_FAILURE;

	m = open_memstream(&req, &len);
	if (!m) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	fprintf(m, "{\"cmd\":\"events\",\"format\":\"%s\",\"trace\":%s",
		json ? "json" : "text", trace ? "true" : "false");
	if (queue)
		fprintf(m, ",\"queue\":%u", queue);
	for (k = 0; k < FILTER_KEYS; k++)
		put_key(m, f, k);
	fputs("}\n", m);
	fclose(m);
	if (len > CTL_REQUEST_MAX) {
		log_err("too many filters for one request");
		free(req);
		return EXIT_USAGE;
	}
	fd = control_connect(control, req);
	free(req);
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		log_err("no running agent serves %s: start one with 'nfsguard run'",
			control);
		return 3;
	}
	if (fd < 0) {
		log_err("cannot reach the agent at %s: %s%s", control, strerror(-fd),
			fd == -EACCES ? ": run as root, or as a member of its control group" : "");
		return EXIT_FAILURE;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopped) {
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += n;
		skip = 0;
		if (first) {
			/* The agent's answer to the request comes first. */
			nl = memchr(buf, '\n', have);
			if (!nl) {
				if (have == sizeof(buf))
					break;
				continue;
			}
			first = false;
			if (strncmp(buf, "{\"ok\":true", 10)) {
				fprintf(stderr, "nfsguard: the agent refused: %.*s\n",
					(int)(nl - buf), buf);
				break;
			}
			if (trace && strstr(buf, "\"tracing\":false"))
				log_warn("tracing of allowed connects is off in the agent: restart it with --trace to see outcomes; refusals follow");
			skip = nl + 1 - buf;
		}
		if (fwrite(buf + skip, 1, have - skip, stdout) != have - skip ||
		    fflush(stdout)) {
			status = EXIT_FAILURE;
			goto out;
		}
		have = 0;
	}
	status = stopped || !first ? EXIT_SUCCESS : EXIT_FAILURE;
	if (!stopped && !first)
		log_info("the agent closed the stream");
out:
	close(fd);
	return status;
}

int cmd_events(int argc, char **argv)
{
	struct events_opts o = { .control = CONTROL_DEFAULT_PATH };

	if (argp_parse(&events_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	return events_stream(o.control, o.json, o.trace, o.queue, &o.f);
}
