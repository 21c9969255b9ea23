// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard status: what each running agent has attached where, its active
 * policy with the cgroup ids its paths resolved to, and its counters,
 * read from the kernel objects themselves.
 */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cgroup.h"
#include "commands.h"
#include "discover.h"
#include "format.h"
#include "guard.h"
#include "guard_prog.h"
#include "log.h"
#include "persist.h"
#include "policy.h"
#include "probe.h"

struct status_opts {
	bool json;
};

static const char status_doc[] =
	"Show each running agent: its hooks and the cgroups they are attached "
	"to, the active policy with the ids its cgroup paths resolved to, and "
	"the counters, in total and per policy."
	"\v"
	"Examples:\n"
	"  nfsguard status\n"
	"  nfsguard status --json | jq '.agents[].policies[].counters'\n";

static const struct argp_option status_options[] = {
	{ "json", 'j', NULL, 0, "Print one JSON object", 0 },
	{},
};

static error_t parse_status(int key, char *arg, struct argp_state *state)
{
	struct status_opts *o = state->input;

	switch (key) {
	case 'j':
		o->json = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp status_argp = {
	.options = status_options,
	.parser = parse_status,
	.doc = status_doc,
};

static const char *const counter_names[NFSG_CTR_MAX] = {
	"passed", "allowed", "refused", "audited", "events_dropped",
};
static const char *const pcounter_names[NFSG_PCTR_MAX] = {
	"allowed", "refused", "audited",
};

/* One generation's view, for printing. */
struct view {
	struct agent *a;
	struct cgroup2 *cg;
	__u32 gen;
	int policies, cgroups, paths, dests;	/* inner map fds */
	int pctrs;		/* the per-policy counters (all generations) */
	__u32 n_policies;
};

/* "connect4" for either build of a hook; "cg_mkdir" for a watcher. */
static void hook_name(const char *prog, char *buf, size_t len)
{
	int hook = guard_hook_of(prog);

	if (hook >= 0)
		snprintf(buf, len, "%s", guard_hook_name(hook));
	else
		snprintf(buf, len, "%s", strncmp(prog, "nfsg_", 5) ? prog : prog + 5);
}

static void json_str(const char *s)
{
	format_json_string(stdout, s, strlen(s));
}

/* A cgroup path for text: a user may have named it, so escaped. */
static const char *text_path(const char *s, char *buf, size_t len)
{
	return format_escape(s, strlen(s), ESC_BLANK, buf, len);
}

/* Room for a cgroup path of PATH_MAX bytes, escaped. */
#define TEXT_PATH_LEN (ESC_MAX * PATH_MAX + 1)

static void print_hooks(const struct view *v, bool json)
{
	char name[24], path[TEXT_PATH_LEN];
	size_t i;
	bool first = true;

	for (i = 0; i < v->a->n_links; i++) {
		const struct agent_link *l = &v->a->links[i];

		hook_name(l->prog_name, name, sizeof(name));
		if (json) {
			printf("%s{\"hook\":", first ? "" : ",");
			json_str(name);
			if (l->cgroup_id) {
				printf(",\"cgroup_id\":%llu,\"cgroup\":",
				       (unsigned long long)l->cgroup_id);
				json_str(cgroup_path(v->cg, l->cgroup_id));
			} else {
				printf(",\"tracepoint\":");
				json_str(l->tp_name);
			}
			printf(",\"link_id\":%u,\"prog_id\":%u}", l->link_id,
			       l->prog_id);
		} else if (l->cgroup_id) {
			printf("  %-10s on cgroup %s (id %llu), link %u, program %u\n",
			       name, text_path(cgroup_path(v->cg, l->cgroup_id),
						path, sizeof(path)),
			       (unsigned long long)l->cgroup_id, l->link_id,
			       l->prog_id);
		} else {
			printf("  %-10s on tracepoint %s, link %u, program %u\n",
			       name, l->tp_name, l->link_id, l->prog_id);
		}
		first = false;
	}
}

/* The cgroup paths policy idx names, with the id each resolved to. */
static void print_cgroups(const struct view *v, __u32 idx, bool json)
{
	struct nfsg_path_key key, next;
	char path[TEXT_PATH_LEN];
	__u32 pidx, cidx;
	__u64 id;
	bool first = true, named;
	int fd, err;
	void *prev = NULL;

	while (!bpf_map_get_next_key(v->paths, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(v->paths, &key, &pidx) || pidx != idx)
			continue;
		err = cgroup_open(v->cg, key.path, &fd, &id);
		if (!err)
			close(fd);
		/* Named: the kernel maps its current id to this policy. */
		named = !err && !bpf_map_lookup_elem(v->cgroups, &id, &cidx) &&
			cidx == idx;
		if (json) {
			printf("%s{\"path\":", first ? "" : ",");
			json_str(key.path);
			if (named)
				printf(",\"id\":%llu}", (unsigned long long)id);
			else
				printf(",\"id\":null}");
		} else if (named) {
			printf("      cgroup %s (id %llu)\n",
			       text_path(key.path, path, sizeof(path)),
			       (unsigned long long)id);
		} else {
			printf("      cgroup %s (not created yet)\n",
			       text_path(key.path, path, sizeof(path)));
		}
		first = false;
	}
}

static void print_dests(const struct view *v, __u32 idx, bool json)
{
	struct nfsg_dest_key key, next;
	struct policy_cidr c;
	char text[64];
	bool first = true;
	void *prev = NULL;

	while (!bpf_map_get_next_key(v->dests, prev, &next)) {
		key = next;
		prev = &key;
		if (ntohl(key.policy) != idx)
			continue;
		memcpy(c.addr, key.addr, sizeof(c.addr));
		c.prefixlen = key.prefixlen - 32;
		policy_format_cidr(&c, text, sizeof(text));
		if (json) {
			printf("%s", first ? "" : ",");
			json_str(text);
		} else {
			printf("      allow %s\n", text);
		}
		first = false;
	}
}

static void print_policy(const struct view *v, __u32 idx,
			 const struct nfsg_policy *k, bool json)
{
	char ports[160], uids[160], gids[160], what[512];
	struct policy p = { .k = *k };
	__u64 c[NFSG_PCTR_MAX] = {};
	int i;

	for (i = 0; i < NFSG_PCTR_MAX; i++)
		map_percpu_sum(v->pctrs, (v->gen * NFSG_MAX_POLICIES + idx) *
					 NFSG_PCTR_MAX + i, &c[i]);
	if (!json) {
		p.n_dests = 0;
		policy_describe(&p, what, sizeof(what));
		printf("  %-16s %s\n", k->name, what);
		printf("      allowed %llu, refused %llu, audited %llu\n",
		       (unsigned long long)c[0], (unsigned long long)c[1],
		       (unsigned long long)c[2]);
		print_cgroups(v, idx, false);
		print_dests(v, idx, false);
		return;
	}
	policy_format_ranges(k->ports, k->n_ports, ports, sizeof(ports));
	policy_format_ranges(k->uids, k->n_uids, uids, sizeof(uids));
	policy_format_ranges(k->gids, k->n_gids, gids, sizeof(gids));
	printf("{\"name\":");
	json_str(k->name);
	printf(",\"index\":%u,\"mode\":\"%s\",\"protocols\":[%s%s%s],"
	       "\"ports\":\"%s\",\"privileged_uids\":\"%s\","
	       "\"privileged_gids\":\"%s\",\"counters\":{",
	       idx, policy_mode_name(k->mode),
	       k->protocols & NFSG_GOVERN_TCP ? "\"tcp\"" : "",
	       k->protocols == (NFSG_GOVERN_TCP | NFSG_GOVERN_UDP) ? "," : "",
	       k->protocols & NFSG_GOVERN_UDP ? "\"udp\"" : "", ports, uids,
	       gids);
	for (i = 0; i < NFSG_PCTR_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", pcounter_names[i],
		       (unsigned long long)c[i]);
	printf("},\"cgroups\":[");
	print_cgroups(v, idx, true);
	printf("],\"allow_destinations\":[");
	print_dests(v, idx, true);
	printf("]}");
}

static int print_agent(struct agent *a, struct cgroup2 *cg, bool json,
		       bool first)
{
	struct agent_maps m;
	struct view v = { .a = a, .cg = cg, .policies = -1, .cgroups = -1,
			  .paths = -1, .dests = -1 };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), idx, shown;
	struct nfsg_policy k;
	__u64 c[NFSG_CTR_MAX] = {};
	char path[TEXT_PATH_LEN];
	int i, err;

	err = discover_maps(a, &m);
	if (!err)
		err = discover_active_gen(&m, &v.gen);
	if (err) {
		log_err("agent %d: cannot read its maps: %s: is it the same nfsguard version?",
			a->pid, strerror(-err));
		discover_maps_close(&m);
		return err;
	}
	v.policies = discover_inner(m.policies, v.gen);
	v.cgroups = discover_inner(m.cgroups, v.gen);
	v.paths = discover_inner(m.paths, v.gen);
	v.dests = discover_inner(m.dests, v.gen);
	v.pctrs = m.pol_ctrs;
	if (v.policies < 0 || v.cgroups < 0 || v.paths < 0 || v.dests < 0 ||
	    v.pctrs < 0 || bpf_obj_get_info_by_fd(v.policies, &info, &len)) {
		log_err("agent %d: generation %u is incomplete", a->pid, v.gen);
		err = -ENOENT;
		goto out;
	}
	/* Another version's maps would be misread: pass them over. */
	if (info.value_size != sizeof(struct nfsg_policy) ||
	    !map_sizes_are(v.cgroups, sizeof(__u64), sizeof(__u32)) ||
	    !map_sizes_are(v.paths, sizeof(struct nfsg_path_key), sizeof(__u32)) ||
	    !map_sizes_are(v.dests, sizeof(struct nfsg_dest_key), sizeof(__u8)) ||
	    !map_sizes_are(v.pctrs, sizeof(__u32), sizeof(__u64))) {
		log_err("agent %d: its maps have another layout: use the nfsguard that started it",
			a->pid);
		err = -EPROTO;
		goto out;
	}
	v.n_policies = info.max_entries;
	counters_total(m.counters, m.meta, c);

	if (json) {
		printf("%s{\"pid\":%d,\"cgroup_id\":%llu,\"cgroup\":", first ? "" : ",",
		       a->pid, (unsigned long long)a->cgroup_id);
		json_str(cgroup_path(cg, a->cgroup_id));
		printf(",\"generation\":%u,\"hooks\":[", v.gen);
		print_hooks(&v, true);
		printf("],\"counters\":{");
		for (i = 0; i < NFSG_CTR_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", counter_names[i],
			       (unsigned long long)c[i]);
		printf("},\"policies\":[");
	} else {
		printf("%sagent %d: enforcing on cgroup %s (id %llu), generation %u\n",
		       first ? "" : "\n", a->pid,
		       text_path(cgroup_path(cg, a->cgroup_id), path, sizeof(path)),
		       (unsigned long long)a->cgroup_id, v.gen);
		print_hooks(&v, false);
		printf("  counters: passed %llu, allowed %llu, refused %llu, audited %llu, events dropped %llu\n",
		       (unsigned long long)c[0], (unsigned long long)c[1],
		       (unsigned long long)c[2], (unsigned long long)c[3],
		       (unsigned long long)c[4]);
		printf("  policies:\n");
	}
	for (idx = 0, shown = 0; idx < v.n_policies; idx++) {
		if (bpf_map_lookup_elem(v.policies, &idx, &k))
			continue;
		if (json && shown++)
			printf(",");
		print_policy(&v, idx, &k, json);
	}
	if (json)
		printf("]}");
out:
	if (v.policies >= 0)
		close(v.policies);
	if (v.cgroups >= 0)
		close(v.cgroups);
	if (v.paths >= 0)
		close(v.paths);
	if (v.dests >= 0)
		close(v.dests);
	discover_maps_close(&m);
	return err;
}

int cmd_status(int argc, char **argv)
{
	struct status_opts o = {};
	struct agent *agents = NULL;
	struct cgroup2 *cg;
	size_t n = 0, i, shown;
	int err, status = EXIT_SUCCESS;

	if (argp_parse(&status_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	if (probe_privileges())
		return EXIT_FAILURE;
	cg = calloc(1, sizeof(*cg));
	if (!cg) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	err = cgroup2_open(cg);
	if (err)
		cg->mount_fd = -1;	/* paths show as "?" */
	err = discover_agents(&agents, &n);
	if (err) {
		log_err("cannot look for agents in /proc: %s", strerror(-err));
		status = EXIT_FAILURE;
		goto out;
	}
	if (!n) {
		if (o.json)
			printf("{\"agents\":[]}\n");
		if (persist_exists(PERSIST_DEFAULT_DIR))
			log_err("no running agent, but enforcement is pinned in %s: 'nfsguard run --persist' adopts it",
				PERSIST_DEFAULT_DIR);
		else
			log_err("no running agent: start one with 'nfsguard run'");
		status = 3;	/* as 'systemctl status' for a stopped unit */
		goto out;
	}
	if (o.json)
		printf("{\"agents\":[");
	/* An agent of another version is named on stderr and passed over. */
	for (i = 0, shown = 0; i < n; i++)
		shown += !print_agent(&agents[i], cg, o.json, shown == 0);
	if (o.json)
		printf("]}\n");
	if (!shown)
		status = EXIT_FAILURE;
out:
	free(agents);
	cgroup2_close(cg);
	free(cg);
	return status;
}
