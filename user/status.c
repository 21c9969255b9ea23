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
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "config.h"
#include "cgroup.h"
#include "commands.h"
#include "map_read.h"
#include "format.h"
#include "guard.h"
#include "guard_prog.h"
#include "log.h"
#include "persist.h"
#include "policy.h"
#include "probe.h"
#include "agent.h"
#include "control.h"
#include "counters.h"
#include "policy_maps.h"
#include "status.h"

struct status_opts {
	bool json;
	const char *control, *pin_dir;
};

static const char status_doc[] =
	"Ask the running agent (over its control socket) for its version, "
	"uptime, configuration, attach point, hooks, active policy with the "
	"ids its cgroup paths resolved to, and counters, in total and per "
	"policy. With no agent running, read what is pinned instead (exit "
	"status 3)."
	"\v"
	"Examples:\n"
	"  nfsguard status\n"
	"  nfsguard status --json | jq '.policies[].counters'\n"
	"\n"
	"Exit status:\n"
	"  0   an agent runs, and it was shown\n"
	"  1   it could not be read\n"
	"  3   no agent runs (its pins, if any, were shown)\n"
	"  64  bad arguments\n";

static const struct argp_option status_options[] = {
	{ "json", 'j', NULL, 0, "Print one JSON object", 0 },
	{ "control", 'C', "PATH", 0,
	  "The agent's control socket (default " CONTROL_DEFAULT_PATH ")", 0 },
	{ "pin-dir", 'P', "DIR", 0,
	  "Without an agent: read the pins in DIR (default "
	  PERSIST_DEFAULT_DIR ")", 0 },
	{},
};

static error_t parse_status(int key, char *arg, struct argp_state *state)
{
	struct status_opts *o = state->input;

	switch (key) {
	case 'j':
		o->json = true;
		return 0;
	case 'C':
		o->control = arg;
		return 0;
	case 'P':
		o->pin_dir = arg;
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

/* Where the document goes: stdout, or the agent's answer. */
static FILE *sout;

static const char *const counter_names[NFSG_CTR_MAX] = {
	"passed", "allowed", "refused", "audited", "events_dropped",
};
static const char *const pcounter_names[NFSG_PCTR_MAX] = {
	"allowed", "refused", "audited",
};

#define STATUS_MAX_LINKS 16

/* What is shown, from the agent itself or from its pins. */
struct view {
	struct cgroup2 *cg;
	bool running;
	struct nfsg_agent *a;	/* when running, in the agent */
	const char *pin_dir;
	__u32 gen;
	int outer[4];		/* policies, cgroups, paths, dests (outer) */
	int policies, cgroups, paths, dests;	/* gen's inner map fds */
	int pctrs, base, counters, meta;
	const struct policy_set *sets;	/* names of both generations */
	int links[STATUS_MAX_LINKS];
	size_t n_links;
	__u32 n_policies;
};

/* A link's program name, id and where it is attached. */
struct link_view {
	__u32 link_id, prog_id;
	char prog_name[16];
	__u64 cgroup_id;
	char tp_name[32];
};

static int link_view(int fd, struct link_view *l)
{
	struct bpf_link_info info = {};
	struct bpf_prog_info pinfo = {};
	__u32 len = sizeof(info), plen = sizeof(pinfo);
	int pfd;

	memset(l, 0, sizeof(*l));
	info.raw_tracepoint.tp_name = (__u64)(unsigned long)l->tp_name;
	info.raw_tracepoint.tp_name_len = sizeof(l->tp_name);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	l->link_id = info.id;
	l->prog_id = info.prog_id;
	if (info.type == BPF_LINK_TYPE_CGROUP)
		l->cgroup_id = info.cgroup.cgroup_id;
	else if (info.type != BPF_LINK_TYPE_RAW_TRACEPOINT)
		l->tp_name[0] = '\0';
	pfd = bpf_prog_get_fd_by_id(info.prog_id);
	if (pfd < 0)
		return -errno;
	if (!bpf_obj_get_info_by_fd(pfd, &pinfo, &plen))
		snprintf(l->prog_name, sizeof(l->prog_name), "%s", pinfo.name);
	close(pfd);
	return 0;
}

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
	format_json_string(sout, s, strlen(s));
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
	char name[64], path[TEXT_PATH_LEN];
	struct link_view l;
	bool first = true;
	size_t i;

	for (i = 0; i < v->n_links; i++) {
		if (link_view(v->links[i], &l))
			continue;
		hook_name(l.prog_name, name, sizeof(name));
		if (json) {
			fprintf(sout, "%s{\"hook\":", first ? "" : ",");
			json_str(name);
			if (l.cgroup_id || !l.tp_name[0]) {
				fprintf(sout, ",\"cgroup_id\":%llu,\"cgroup\":",
				       (unsigned long long)l.cgroup_id);
				json_str(cgroup_path(v->cg, l.cgroup_id));
			} else {
				fprintf(sout, ",\"tracepoint\":");
				json_str(l.tp_name);
			}
			fprintf(sout, ",\"link_id\":%u,\"prog_id\":%u}", l.link_id,
			       l.prog_id);
		} else if (l.cgroup_id || !l.tp_name[0]) {
			fprintf(sout, "  %-10s on cgroup %s (id %llu), link %u, program %u\n",
			       name, text_path(cgroup_path(v->cg, l.cgroup_id),
						path, sizeof(path)),
			       (unsigned long long)l.cgroup_id, l.link_id,
			       l.prog_id);
		} else {
			fprintf(sout, "  %-10s on tracepoint %s, link %u, program %u\n",
			       name, l.tp_name, l.link_id, l.prog_id);
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
			fprintf(sout, "%s{\"path\":", first ? "" : ",");
			json_str(key.path);
			if (named)
				fprintf(sout, ",\"id\":%llu}", (unsigned long long)id);
			else
				fprintf(sout, ",\"id\":null}");
		} else if (named) {
			fprintf(sout, "      cgroup %s (id %llu)\n",
			       text_path(key.path, path, sizeof(path)),
			       (unsigned long long)id);
		} else {
			fprintf(sout, "      cgroup %s (not created yet)\n",
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
			fprintf(sout, "%s", first ? "" : ",");
			json_str(text);
		} else {
			fprintf(sout, "      allow %s\n", text);
		}
		first = false;
	}
}

static void print_policy(const struct view *v, __u32 idx,
			 const struct nfsg_policy *k, bool json)
{
	char ports[160], uids[160], gids[160], what[512];
	struct policy p = { .k = *k };
	struct policy_counts pc;
	int i, f;

	/* By name: what the policy counted in every generation. */
	counters_policy(v->base, v->pctrs, v->sets, k->name, &pc);
	if (!json) {
		p.n_dests = 0;
		policy_describe(&p, what, sizeof(what));
		fprintf(sout, "  %-16s %s\n", k->name, what);
		fprintf(sout, "      allowed %llu, refused %llu, audited %llu\n",
		       (unsigned long long)counters_total_of(&pc, 0),
		       (unsigned long long)counters_total_of(&pc, 1),
		       (unsigned long long)counters_total_of(&pc, 2));
		for (f = 0; f < COUNTERS_FAMILIES; f++)
			if (counters_family_shown(&pc, f))
				fprintf(sout, "        %-7s allowed %llu, refused %llu, audited %llu\n",
				       counters_family_name(f),
				       (unsigned long long)pc.v[f][0],
				       (unsigned long long)pc.v[f][1],
				       (unsigned long long)pc.v[f][2]);
		print_cgroups(v, idx, false);
		print_dests(v, idx, false);
		return;
	}
	policy_format_ranges(k->ports, k->n_ports, ports, sizeof(ports));
	policy_format_ranges(k->uids, k->n_uids, uids, sizeof(uids));
	policy_format_ranges(k->gids, k->n_gids, gids, sizeof(gids));
	fprintf(sout, "{\"name\":");
	json_str(k->name);
	fprintf(sout, ",\"index\":%u,\"mode\":\"%s\",\"protocols\":[%s%s%s],"
	       "\"ports\":\"%s\",\"privileged_uids\":\"%s\","
	       "\"privileged_gids\":\"%s\",\"counters\":{",
	       idx, policy_mode_name(k->mode),
	       k->protocols & NFSG_GOVERN_TCP ? "\"tcp\"" : "",
	       k->protocols == (NFSG_GOVERN_TCP | NFSG_GOVERN_UDP) ? "," : "",
	       k->protocols & NFSG_GOVERN_UDP ? "\"udp\"" : "", ports, uids,
	       gids);
	for (i = 0; i < NFSG_PCTR_MAX; i++)
		fprintf(sout, "%s\"%s\":%llu", i ? "," : "", pcounter_names[i],
		       (unsigned long long)counters_total_of(&pc, i));
	fprintf(sout, "},\"families\":{");
	for (f = 0; f < COUNTERS_FAMILIES; f++) {
		if (!counters_family_shown(&pc, f))
			continue;
		fprintf(sout, "%s\"%s\":{", f ? "," : "",
			counters_family_name(f));
		for (i = 0; i < NFSG_PCTR_MAX; i++)
			fprintf(sout, "%s\"%s\":%llu", i ? "," : "",
				pcounter_names[i],
				(unsigned long long)pc.v[f][i]);
		fputc('}', sout);
	}
	fprintf(sout, "},\"cgroups\":[");
	print_cgroups(v, idx, true);
	fprintf(sout, "],\"allow_destinations\":[");
	print_dests(v, idx, true);
	fprintf(sout, "]}");
}


static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The active generation's inner maps, checked for our layout. */
static int open_inner(struct view *v)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	v->policies = map_inner(v->outer[0], v->gen);
	v->cgroups = map_inner(v->outer[1], v->gen);
	v->paths = map_inner(v->outer[2], v->gen);
	v->dests = map_inner(v->outer[3], v->gen);
	if (v->policies < 0 || v->cgroups < 0 || v->paths < 0 || v->dests < 0 ||
	    v->pctrs < 0 || bpf_obj_get_info_by_fd(v->policies, &info, &len))
		return -ENOENT;
	/* Another version's maps would be misread: pass them over. */
	if (info.value_size != sizeof(struct nfsg_policy) ||
	    !map_sizes_are(v->cgroups, sizeof(__u64), sizeof(__u32)) ||
	    !map_sizes_are(v->paths, sizeof(struct nfsg_path_key), sizeof(__u32)) ||
	    !map_sizes_are(v->dests, sizeof(struct nfsg_dest_key), sizeof(__u8)) ||
	    !map_sizes_are(v->pctrs, sizeof(__u32), sizeof(__u64)))
		return -EPROTO;
	v->n_policies = info.max_entries;
	return 0;
}

static void close_inner(struct view *v)
{
	close_fd(&v->policies);
	close_fd(&v->cgroups);
	close_fd(&v->paths);
	close_fd(&v->dests);
}

static void print_policies(const struct view *v, bool json)
{
	struct nfsg_policy k;
	__u32 idx, shown = 0;

	for (idx = 0; idx < v->n_policies; idx++) {
		if (bpf_map_lookup_elem(v->policies, &idx, &k))
			continue;
		if (json && shown++)
			fprintf(sout, ",");
		print_policy(v, idx, &k, json);
	}
}

static void json_kv_str(const char *key, const char *val)
{
	fprintf(sout, ",\"%s\":", key);
	if (val)
		json_str(val);
	else
		fprintf(sout, "null");
}

/* The document, for either source. */
static int print_view(struct view *v, bool json)
{
	struct nfsg_agent *a = v->a;
	__u64 c[NFSG_CTR_MAX] = {}, cgid = a ? a->cgroup_id : 0;
	char path[TEXT_PATH_LEN];
	struct link_view l;
	bool present;
	int i, err;

	err = open_inner(v);
	if (err) {
		log_err("cannot read the %s maps: %s: is it the same nfsguard version?",
			v->running ? "agent's" : "pinned", strerror(-err));
		close_inner(v);
		return err;
	}
	counters_total(v->counters, v->meta, c);
	if (!a && v->n_links && !link_view(v->links[0], &l))
		cgid = l.cgroup_id;
	present = a ? !a->attach_gone : cgid != 0;
	if (json) {
		fprintf(sout, "{\"agent_running\":%s,\"version\":\"%s\"",
			v->running ? "true" : "false", NFSG_VERSION);
		if (a) {
			fprintf(sout, ",\"pid\":%d,\"uptime_seconds\":%llu", getpid(),
				(unsigned long long)((agent_clock_ns(CLOCK_MONOTONIC) -
						      a->started_ns) / 1000000000ULL));
			json_kv_str("config", a->o->config ? a->o->config
							   : CONFIG_DEFAULT_PATH);
			json_kv_str("control", control_path(a->ctl));
		}
		json_kv_str("pin_dir", a && !a->o->persist ? NULL : v->pin_dir);
		fprintf(sout, ",\"persist\":%s", !a || a->o->persist ? "true" : "false");
		fprintf(sout, ",\"cgroup_id\":%llu,\"cgroup\":", (unsigned long long)cgid);
		json_str(cgroup_path(v->cg, cgid));
		fprintf(sout, ",\"attach_point_present\":%s,\"generation\":%u,\"hooks\":[",
			present ? "true" : "false", v->gen);
		print_hooks(v, true);
		fprintf(sout, "],\"counters\":{");
		for (i = 0; i < NFSG_CTR_MAX; i++)
			fprintf(sout, "%s\"%s\":%llu", i ? "," : "", counter_names[i],
				(unsigned long long)c[i]);
		fprintf(sout, "}");
		if (a) {
			fprintf(sout, ",\"events\":{\"emitted\":%llu,\"dropped\":%llu,\"suppressed\":%llu},\"readers\":%u,\"tracing\":%s",
				(unsigned long long)a->stats.events,
				(unsigned long long)c[NFSG_CTR_EVENTS_DROPPED],
				(unsigned long long)a->stats.suppressed,
				control_readers(a->ctl), a->g.trace[0] ? "true" : "false");
			fprintf(sout, ",\"reloads\":{\"ok\":%llu,\"failed\":%llu}",
				(unsigned long long)a->stats.reloads_ok,
				(unsigned long long)a->stats.reloads_failed);
			fprintf(sout, ",\"cgroups_named_by_agent\":%llu",
				(unsigned long long)a->stats.cgroups_named_by_agent);
			fprintf(sout, ",\"existing\":{\"checks\":%llu,\"violating\":%llu,\"destroyed\":%llu,\"failed\":%llu,\"listing\":\"%s\",\"destroy\":\"%s\"}",
				(unsigned long long)a->stats.existing_scans,
				(unsigned long long)a->stats.existing_violating,
				(unsigned long long)a->stats.existing_destroyed,
				(unsigned long long)a->stats.existing_failed,
				probe_sockets_name(&a->plan),
				probe_destroy_name(&a->plan));
		}
		fprintf(sout, ",\"policies\":[");
		print_policies(v, true);
		fprintf(sout, "]}\n");
	} else {
		if (a)
			fprintf(sout, "agent %d: enforcing on cgroup %s (id %llu), generation %u\n",
				getpid(), text_path(cgroup_path(v->cg, cgid), path, sizeof(path)),
				(unsigned long long)cgid, v->gen);
		else
			fprintf(sout, "agent not running: enforcement pinned in %s on cgroup %s (id %llu), generation %u\n",
				v->pin_dir, text_path(cgroup_path(v->cg, cgid), path, sizeof(path)),
				(unsigned long long)cgid, v->gen);
		if (!present)
			fprintf(sout, "  the attach point is gone: nothing is enforced\n");
		if (a)
			fprintf(sout, "  version %s, up %llu s, %s, %u reader%s, config %s\n",
				NFSG_VERSION,
				(unsigned long long)((agent_clock_ns(CLOCK_MONOTONIC) -
						      a->started_ns) / 1000000000ULL),
				a->o->persist ? "pinned" : "foreground",
				control_readers(a->ctl),
				control_readers(a->ctl) == 1 ? "" : "s",
				a->o->config ? a->o->config : CONFIG_DEFAULT_PATH);
		print_hooks(v, false);
		fprintf(sout, "  counters: passed %llu, allowed %llu, refused %llu, audited %llu, events dropped %llu",
			(unsigned long long)c[0], (unsigned long long)c[1],
			(unsigned long long)c[2], (unsigned long long)c[3],
			(unsigned long long)c[4]);
		if (a)
			fprintf(sout, ", suppressed %llu", (unsigned long long)a->stats.suppressed);
		if (a)
			fprintf(sout, "\n  existing connections: %llu violating, %llu aborted, %llu not aborted (%s, %s)",
				(unsigned long long)a->stats.existing_violating,
				(unsigned long long)a->stats.existing_destroyed,
				(unsigned long long)a->stats.existing_failed,
				probe_sockets_name(&a->plan),
				probe_destroy_name(&a->plan));
		fprintf(sout, "\n  policies:\n");
		print_policies(v, false);
	}
	close_inner(v);
	return 0;
}

void status_of_agent(FILE *out, bool json, struct nfsg_agent *a)
{
	struct nfsg_guard *sk = a->g.skel;
	struct view v = {
		.cg = &a->cg, .running = true, .a = a, .gen = a->gen,
		.pin_dir = a->o->pin_dir,
		.outer = { bpf_map__fd(sk->maps.nfsg_policies),
			   bpf_map__fd(sk->maps.nfsg_cgroups),
			   bpf_map__fd(sk->maps.nfsg_paths),
			   bpf_map__fd(sk->maps.nfsg_dests) },
		.policies = -1, .cgroups = -1, .paths = -1, .dests = -1,
		.pctrs = bpf_map__fd(sk->maps.nfsg_pol_ctrs),
		.base = a->pol_base_fd,
		.counters = bpf_map__fd(sk->maps.nfsg_counters),
		.meta = bpf_map__fd(sk->maps.nfsg_meta),
		.sets = a->sets,
	};
	int i;

	for (i = 0; i < GUARD_HOOKS; i++)
		if (a->g.hooks[i])
			v.links[v.n_links++] = bpf_link__fd(a->g.hooks[i]);
	if (a->g.mkdir)
		v.links[v.n_links++] = bpf_link__fd(a->g.mkdir);
	if (a->g.rmdir)
		v.links[v.n_links++] = bpf_link__fd(a->g.rmdir);
	sout = out;
	print_view(&v, json);
	sout = stdout;
}

/* The pinned maps of a stopped agent; fds -1 where absent. */
static int open_pinned(struct view *v, const struct pin_dir *d,
		       struct policy_set sets[NFSG_GENERATIONS])
{
	static const char *const outer[4] = { "nfsg_policies", "nfsg_cgroups",
					      "nfsg_paths", "nfsg_dests" };
	static const char *const links[] = {
		"link_connect4", "link_connect6", "link_sendmsg4",
		"link_sendmsg6", "link_cg_mkdir", "link_cg_rmdir",
	};
	char path[PATH_MAX];
	struct nfsg_gen gen;
	__u32 zero = 0;
	size_t i;
	int fd;

#define PINNED(name) (pin_dir_path(d, (name), path, sizeof(path)), bpf_obj_get(path))
	for (i = 0; i < 4; i++)
		v->outer[i] = PINNED(outer[i]);
	v->pctrs = PINNED("nfsg_pol_ctrs");
	v->base = PINNED(COUNTERS_BASE_NAME);
	v->counters = PINNED("nfsg_counters");
	v->meta = PINNED("nfsg_meta");
	fd = PINNED("nfsg_gen");
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		v->links[v->n_links] = PINNED(links[i]);
		v->n_links += v->links[v->n_links] >= 0;
	}
#undef PINNED
	if (fd < 0 || !map_sizes_are(fd, 4, sizeof(gen)) ||
	    bpf_map_lookup_elem(fd, &zero, &gen)) {
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	close(fd);
	v->gen = gen.active & (NFSG_GENERATIONS - 1);
	for (i = 0; i < NFSG_GENERATIONS; i++)
		policy_maps_read_pinned(d->at, i, &sets[i]);
	v->sets = sets;
	if (v->counters < 0 || v->meta < 0 || v->outer[0] < 0)
		return -ENOENT;
	return 0;
}

static void close_pinned(struct view *v)
{
	size_t i;

	for (i = 0; i < 4; i++)
		close_fd(&v->outer[i]);
	close_fd(&v->pctrs);
	close_fd(&v->base);
	close_fd(&v->counters);
	close_fd(&v->meta);
	for (i = 0; i < v->n_links; i++)
		close_fd(&v->links[i]);
}

/* No agent answers: what its pins say, if anything is pinned. */
static int status_pinned(const char *dir, bool json, struct cgroup2 *cg)
{
	struct policy_set sets[NFSG_GENERATIONS] = {};
	struct view v = { .cg = cg, .pin_dir = dir, .policies = -1,
			  .cgroups = -1, .paths = -1, .dests = -1 };
	struct pin_dir d;
	int err, i, status = 3;

	for (i = 0; i < 4; i++)
		v.outer[i] = -1;
	v.pctrs = v.base = v.counters = v.meta = -1;
	if (pin_dir_open(&d, dir, PIN_DIR_QUIET))
		goto none;
	err = open_pinned(&v, &d, sets);
	if (!err)
		err = print_view(&v, json);
	close_pinned(&v);
	pin_dir_close(&d);
	for (i = 0; i < NFSG_GENERATIONS; i++)
		policy_set_free(&sets[i]);
	if (!err)
		return status;	/* as 'systemctl status' for a stopped unit */
none:
	if (json)
		fprintf(sout, "{\"agent_running\":false,\"version\":\"%s\",\"pin_dir\":null,\"policies\":[]}\n",
			NFSG_VERSION);
	log_err("no running agent: start one with 'nfsguard run'");
	return status;
}

int cmd_status(int argc, char **argv)
{
	struct status_opts o = { .control = CONTROL_DEFAULT_PATH,
				 .pin_dir = PERSIST_DEFAULT_DIR };
	char req[64], *buf = NULL;
	struct cgroup2 *cg = NULL;
	long n;
	int fd, status = EXIT_FAILURE;

	if (argp_parse(&status_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	sout = stdout;
	snprintf(req, sizeof(req), "{\"cmd\":\"status\",\"format\":\"%s\"}\n",
		 o.json ? "json" : "text");
	fd = control_connect(o.control, req);
	if (fd >= 0) {
		n = control_read_all(fd, &buf, 64 << 20);
		close(fd);
		if (n <= 0) {
			log_err("the agent at %s gave no status: %s", o.control,
				n ? strerror(-n) : "it closed the connection");
			goto out;
		}
		fwrite(buf, 1, n, stdout);
		status = EXIT_SUCCESS;
		goto out;
	}
	if (fd == -EACCES || fd == -EPERM) {
		log_err("not allowed to talk to the agent at %s: run as root, or as a member of its control group",
			o.control);
		goto out;
	}
	if (probe_privileges())
		goto out;
	cg = calloc(1, sizeof(*cg));
	if (!cg) {
		log_err("out of memory");
		goto out;
	}
	if (cgroup2_open(cg))
		cg->mount_fd = -1;	/* paths show as "?" */
	status = status_pinned(o.pin_dir, o.json, cg);
out:
	free(buf);
	if (cg)
		cgroup2_close(cg);
	free(cg);
	return status;
}
