// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nfsguard probe: what this kernel offers nfsguard, and what it uses. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "commands.h"
#include "format.h"
#include "log.h"
#include "probe.h"
#include "efs.h"
#include "policy.h"
#include "relays.h"

struct probe_opts {
	bool json;
};

static const char probe_doc[] =
	"Probe the running kernel for every feature nfsguard may use: whether "
	"the verifier accepts it, whether the agent would use it and, if not, "
	"what it does instead. Probing loads small programs; it attaches one, "
	"an fexit program that does nothing, and detaches it at once. Exit status 0 if nfsguard can enforce on this kernel, 1 if "
	"a required feature is missing."
	"\v"
	"Examples:\n"
	"  nfsguard probe                        # a table\n"
	"  nfsguard probe --json                 # one JSON object\n"
	"\n"
	EXIT_DOC("nfsguard can enforce on this kernel",
		 "a required feature is missing");

static const struct argp_option probe_options[] = {
	{ "json", 'j', NULL, 0, "One JSON object instead of a table", 0 },
	{ 0 },
};

static error_t parse_probe(int key, char *arg, struct argp_state *state)
{
	struct probe_opts *o = state->input;

	(void)arg;
	switch (key) {
	case 'j':
		o->json = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp probe_argp = {
	.options = probe_options,
	.parser = parse_probe,
	.doc = probe_doc,
};

/* Is feature k in use under plan p? */
static bool in_use(const struct kplan *p, enum kfeature k)
{
	switch (k) {
	case KF_DIRECT_READS:
		return p->hooks == HOOKS_DIRECT;
	case KF_ATOMICS:
		return p->hooks != HOOKS_LEGACY;
	case KF_TRACE:
		return p->trace;
	case KF_TRACE_ERRORS:
		return p->trace_errors;
	case KF_TRACE_CONNECT:
		return p->trace_calls == NFSG_CALL_ERRORS_FEXIT;
	case KF_SKB_PID:
		return p->skb_pid;
	case KF_SKB_COMM:
		return p->skb_comm;
	case KF_SOCK_ITER:
		return p->sockets == SOCKETS_ITER;
	case KF_SOCK_DESTROY:
		return p->destroy == DESTROY_BPF;
	case KF_DIAG_DESTROY:
		return p->diag_destroy;
	case KF_TASK_FILES:
		return p->holders == HOLDERS_ITER;
	case KF_CG_CACHE:
		return p->cg_cache;
	default:
		return p->enforce;
	}
}

static void json_str(const char *s)
{
	format_json_string(stdout, s, strlen(s));
}

/* The TLS relays seen, and whether the default's local ports cover them. */
struct relays_seen {
	struct relay r[RELAYS_MAX];
	int n;			/* or -errno */
	__u32 lo, hi;		/* the relay range the default governs */
	char source[512];	/* where that range came from */
};

static void find_relays(struct relays_seen *rs)
{
	bool warn;

	efs_relay_ports_load(NULL, rs->source, sizeof(rs->source), &warn);
	policy_relay_ports(&rs->lo, &rs->hi);
	/* Listeners anywhere near: a relay outside the range shows too. */
	rs->n = relays_list(1024, 65535, rs->r);
}

static bool relay_kind(const struct relay *r)
{
	return !strcmp(r->comm, "stunnel") || !strcmp(r->comm, "stunnel4") ||
	       !strcmp(r->comm, "efs-proxy");
}

static bool relay_governed(const struct relays_seen *rs, const struct relay *r)
{
	return r->port >= rs->lo && r->port <= rs->hi;
}

static void print_json(const struct kfeatures *f, const struct kplan *p,
		       const char *release, const struct relays_seen *rs)
{
	bool first = true;
	const char *without;
	int k;

	printf("{\"kernel\":");
	json_str(release);
	printf(",\"enforce\":%s,\"socket_reads\":\"%s\",\"sockets\":\"%s\",\"sockets_destroy\":\"%s\",\"sockets_holders\":\"%s\",\"features\":[",
	       p->enforce ? "true" : "false",
	       p->hooks == HOOKS_DIRECT ? "direct" : "probed",
	       probe_sockets_name(p), probe_destroy_name(p),
	       probe_holders_name(p));
	for (k = 0; k < KF_COUNT; k++) {
		without = kfeature_without(k);
		printf("%s{\"name\":\"%s\",\"available\":%s,\"in_use\":%s,\"required\":%s,\"since\":",
		       k ? "," : "", kfeature_name(k), f->have[k] ? "true" : "false",
		       in_use(p, k) ? "true" : "false", without ? "false" : "true");
		json_str(kfeature_since(k));
		printf(",\"what\":");
		json_str(kfeature_what(k));
		if (!in_use(p, k)) {
			printf(",\"without\":");
			json_str(without ? without : "nfsguard cannot enforce");
		}
		printf("}");
	}
	printf("],\"tls_relay_ports\":{\"lo\":%u,\"hi\":%u},\"tls_relays\":[",
	       rs->lo, rs->hi);
	for (k = 0; k < rs->n; k++) {
		if (!relay_kind(&rs->r[k]) && !relay_governed(rs, &rs->r[k]))
			continue;
		printf("%s{\"addr\":\"%s\",\"port\":%u,\"uid\":%u,\"pid\":%u,\"comm\":",
		       first ? "" : ",", rs->r[k].addr, rs->r[k].port, rs->r[k].uid,
		       rs->r[k].pid);
		first = false;
		json_str(rs->r[k].comm);
		printf(",\"governed\":%s}",
		       relay_governed(rs, &rs->r[k]) ? "true" : "false");
	}
	printf("]}\n");
}

static void print_text(const struct kfeatures *f, const struct kplan *p,
		       const char *release, const struct relays_seen *rs)
{
	const char *without;
	int k;

	printf("kernel %s: %s, socket facts read %s\n", release,
	       p->enforce ? "nfsguard can enforce" : "nfsguard cannot enforce",
	       p->hooks == HOOKS_DIRECT ? "directly" : "with probed reads");
	printf("existing connections: listed with %s, aborted with %s, holders from %s\n",
	       probe_sockets_name(p), probe_destroy_name(p),
	       probe_holders_name(p));
	printf("%-19s %-5s %-5s %s\n", "FEATURE", "HAVE", "USED", "NOTE");
	for (k = 0; k < KF_COUNT; k++) {
		without = kfeature_without(k);
		printf("%-19s %-5s %-5s ", kfeature_name(k),
		       f->have[k] ? "yes" : "no", in_use(p, k) ? "yes" : "no");
		if (in_use(p, k))
			printf("%s\n", kfeature_what(k));
		else if (!without)
			printf("required: %s (Linux %s)\n", kfeature_what(k),
			       kfeature_since(k));
		else
			printf("without %s (Linux %s): %s\n", kfeature_what(k),
			       kfeature_since(k), without);
	}
	printf("%s\n", rs->source);
	if (rs->n < 0)
		printf("TLS relays: cannot list listeners (%s)\n", strerror(-rs->n));
	for (k = 0; k < rs->n; k++) {
		if (!relay_kind(&rs->r[k]) && !relay_governed(rs, &rs->r[k]))
			continue;
		printf("TLS relay %s:%u uid %u %s (pid %u): %s\n", rs->r[k].addr,
		       rs->r[k].port, rs->r[k].uid,
		       rs->r[k].comm[0] ? rs->r[k].comm : "?", rs->r[k].pid,
		       relay_governed(rs, &rs->r[k]) ? "governed"
						     : "NOT governed: add its port to local_ports");
	}
}

int cmd_probe(int argc, char **argv)
{
	struct probe_opts o = {};
	struct relays_seen rs;
	struct kfeatures f;
	struct kplan p;
	struct utsname u;

	if (argp_parse(&probe_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	log_setup_libbpf();
	if (probe_privileges())
		return EXIT_FAILURE;
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	probe_features(&f);
	probe_plan(&f, &p);
	find_relays(&rs);
	if (o.json)
		print_json(&f, &p, u.release, &rs);
	else
		print_text(&f, &p, u.release, &rs);
	return p.enforce ? EXIT_SUCCESS : EXIT_FAILURE;
}
