// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The agent core (agent.h): start plan, event source and sinks, reload,
 * counters, and the loop that serves them with the control socket and
 * the metrics endpoint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "agent.h"
#include "backstop.h"
#include "efs.h"
#include "config.h"
#include "control.h"
#include "counters.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "policy_maps.h"
#include "sockets.h"

/* Events wait in the ring buffer at most this long before being sent. */
#define POLL_MS 100
/*
 * Printed events wait in stdout's buffer (main.c) at most about this long:
 * in a flood the loop drains a few records at a time, and a write() for
 * each drain was a third of the agent's time; once a millisecond is
 * enough.
 */
#define FLUSH_MS 1
/* 4 MiB: about 37,000 events, 55 ms of the fastest flood seen (two CPUs
 * refusing 683,000 connects a second), where 1 MiB lost 2 % of them. */
#define RINGBUF_BYTES (4U << 20)
/* Wake the agent early once this much is pending (see bpf/events.h). */
#define WAKEUP_BYTES (RINGBUF_BYTES / 16)
/* Room for one formatted event: a 4 KiB cgroup path escaped, and more. */
#define LINE_MAX_BYTES (64 * 1024)
/* How often the attach point is checked. */
#define ATTACH_CHECK_NS 1000000000ULL
/*
 * The agent's nice value, as auditd's priority_boost: the event path must
 * not lose to the load it reports. Refused connects flooding every CPU of
 * a 2-CPU machine (738,000/s, no rate limit) left it a third of one CPU
 * at nice 0, and 15 % of the events were dropped (bench/, "events").
 */
#define AGENT_NICE (-4)

__u64 agent_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void agent_add_sink(struct nfsg_agent *a, struct agent_sink *s)
{
	s->next = a->sinks;
	a->sinks = s;
}

void agent_remove_sink(struct nfsg_agent *a, struct agent_sink *s)
{
	struct agent_sink **p;

	for (p = &a->sinks; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	s->next = NULL;
}

const char *agent_event_line(struct agent_event *ev, enum format_kind k,
			     size_t *len)
{
	static char *buf[2];
	static FILE *mem[2];
	long n;

	if (ev->line[k]) {
		*len = ev->len[k];
		return ev->line[k];
	}
	if (!mem[k]) {
		buf[k] = malloc(LINE_MAX_BYTES);
		mem[k] = buf[k] ? fmemopen(buf[k], LINE_MAX_BYTES, "w") : NULL;
		if (!mem[k]) {
			free(buf[k]);
			buf[k] = NULL;
			return NULL;
		}
	}
	rewind(mem[k]);
	clearerr(mem[k]);
	format_event(mem[k], k, ev->e, &ev->n);
	fflush(mem[k]);
	n = ftell(mem[k]);
	if (ferror(mem[k]) || n <= 0 || n >= LINE_MAX_BYTES - 1)
		return NULL;
	ev->line[k] = buf[k];
	ev->len[k] = n;
	*len = n;
	return buf[k];
}

int agent_counters(const struct nfsg_agent *a, __u64 *c)
{
	return guard_read_counters(&a->g, c);
}

const struct policy_set *agent_policy(const struct nfsg_agent *a)
{
	return &a->sets[a->gen];
}

/* stdout: the foreground's events, or the service's journal. */
static void out_event(void *ctx, struct agent_event *ev)
{
	struct nfsg_agent *a = ctx;
	const struct nfsg_event *e = ev->e;
	bool trace_event = e->kind >= NFSG_EV_ESTABLISHED &&
			   e->kind <= NFSG_EV_CLOSED;

	if (!filter_match(&a->o->filters, e, ev->n.cgroup))
		return;
	if (a->o->interval) {
		if (e->kind != NFSG_EV_CGROUP_ADDED &&
		    e->kind != NFSG_EV_CGROUP_REMOVED)
			trace_summary_add(&a->summary, e, trace_event ?
					  ((const struct nfsg_trace_event *)e)->duration_ns : 0);
		return;
	}
	format_event(stdout, a->o->format, e, &ev->n);
}

static void out_dropped(void *ctx, __u64 count, __u64 wall_ns)
{
	struct nfsg_agent *a = ctx;

	format_dropped(stdout, a->o->format, count, wall_ns);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct nfsg_agent *a = ctx;
	const struct nfsg_event *e = data;
	const struct nfsg_cgroup_event *ce = data;
	const struct policy_set *set;
	struct agent_event ev = { .e = e, .size = size };
	struct agent_sink *s, *next;
	char path[NFSG_PATH_LEN];
	bool cgroup_event = e->kind == NFSG_EV_CGROUP_ADDED ||
			    e->kind == NFSG_EV_CGROUP_REMOVED;
	bool trace_event = e->kind >= NFSG_EV_ESTABLISHED &&
			   e->kind <= NFSG_EV_CLOSED;

	if (size < sizeof(*e) || e->gen >= NFSG_GENERATIONS ||
	    (cgroup_event && size < sizeof(*ce)) ||
	    (trace_event && size < sizeof(struct nfsg_trace_event)) ||
	    (e->kind == NFSG_EV_EGRESS &&
	     size < sizeof(struct nfsg_egress_event))) {
		a->stats.malformed++;
		return 0;
	}
	/* First: the client waits on it. */
	if (e->kind == NFSG_EV_EGRESS && e->verdict == NFSG_VERDICT_REFUSE)
		backstop_abort(data);
	/* Then: a cgroup its policy must govern before a task enters it. */
	if (e->kind == NFSG_EV_CGROUP_ADDED && e->gen == a->gen)
		a->stats.cgroups_named_by_agent +=
			policy_maps_name_cgroup(&a->g, &a->cg, e->gen,
						e->cgroup_id, e->policy,
						ce->path) == 1;
	a->stats.events++;
	a->stats.suppressed += e->suppressed;
	set = &a->sets[e->gen];
	ev.n.wall_ns = e->ts_boot_ns + a->boot_to_wall_ns;
	if (!cgroup_event) {
		ev.n.cgroup = cgroup_path(&a->cg, e->cgroup_id);
	} else {
		/* The cgroup may be gone already: the kernel sent its path. */
		snprintf(path, sizeof(path), "%.*s", NFSG_PATH_LEN - 1,
			 ce->path);
		ev.n.cgroup = path;
	}
	ev.n.policy = e->policy < set->n ? set->p[e->policy].k.name : "?";
	for (s = a->sinks; s; s = next) {
		next = s->next;	/* a sink may leave */
		s->event(s->ctx, &ev);
	}
	return 0;
}

void agent_existing_event(struct nfsg_agent *a, const struct sockets_entry *se)
{
	struct agent_event ev = { .e = &se->ev->e, .size = sizeof(*se->ev) };
	struct agent_sink *s, *next;

	if (se->ev->action == NFSG_EXISTING_LISTED)
		return;
	a->stats.existing_violating++;
	a->stats.existing_destroyed += se->ev->action == NFSG_EXISTING_DESTROYED;
	a->stats.existing_failed += se->ev->action == NFSG_EXISTING_FAILED;
	a->stats.events++;
	ev.n.wall_ns = se->ev->e.ts_boot_ns + a->boot_to_wall_ns;
	ev.n.cgroup = se->cgroup;
	ev.n.policy = se->policy;
	for (s = a->sinks; s; s = next) {
		next = s->next;
		s->event(s->ctx, &ev);
	}
}

static void existing_found(void *ctx, const struct sockets_entry *se)
{
	agent_existing_event(ctx, se);
}

/* A check's walk ended: its events, and the log line. */
static void check_done(struct nfsg_agent *a, void *ctx,
		       struct sockets_job *job)
{
	const char *when = ctx;
	struct sockets_result r;
	int err;

	a->boot_to_wall_ns = agent_clock_ns(CLOCK_REALTIME) -
			     agent_clock_ns(CLOCK_BOOTTIME);
	err = sockets_finish(job, existing_found, a, &r);
	if (err) {
		log_err("existing connections (%s): not checked: %s", when,
			strerror(-err));
		return;
	}
	a->stats.existing_scans++;
	log_info("existing connections (%s): %u governed, %u violating, %u aborted, %u not aborted; listed with %s in %u network namespace%s, aborted with %s, holders from %s; %llu ms (%llu finding holders)",
		 when, r.found, r.violating, r.destroyed, r.failed,
		 probe_sockets_name(&a->plan), r.netns, r.netns == 1 ? "" : "s",
		 probe_destroy_name(&a->plan), probe_holders_name(&a->plan),
		 (unsigned long long)(r.walk_ns / 1000000),
		 (unsigned long long)(r.holders_ns / 1000000));
}

int agent_check_existing(struct nfsg_agent *a, const char *when)
{
	int err = agent_walk(a, NFSG_ITER_BY_POLICY, check_done, (void *)when);

	if (err)
		log_err("existing connections (%s): not checked: %s", when,
			strerror(-err));
	return err;
}

/* The epoll tag of the running walk's eventfd. */
#define WALK_TAG(a) ((void *)&(a)->job)

/* Start the first walk that waits, unless one runs. One that cannot
 * start, or be waited on, is handed over at once (its error, or its
 * rows after waiting here). */
static void walk_next(struct nfsg_agent *a)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = WALK_TAG(a) };
	struct sockets_job *job;
	struct agent_walk w;

	while (!a->job && a->n_walks) {
		if (!sockets_start(a, a->walks[0].mode, &job) &&
		    !epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, sockets_job_fd(job),
			       &ev)) {
			a->job = job;
			return;
		}
		if (job)
			log_err("cannot wait for a walk of existing connections: %s",
				strerror(errno));
		w = a->walks[0];
		memmove(a->walks, a->walks + 1,
			--a->n_walks * sizeof(a->walks[0]));
		w.done(a, w.ctx, job);
	}
}

/* The running walk ended (its eventfd is readable): hand it over. */
static void walk_ended(struct nfsg_agent *a)
{
	struct sockets_job *job = a->job;
	struct agent_walk w = a->walks[0];

	epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, sockets_job_fd(job), NULL);
	a->job = NULL;
	memmove(a->walks, a->walks + 1, --a->n_walks * sizeof(a->walks[0]));
	w.done(a, w.ctx, job);
	walk_next(a);
}

int agent_walk(struct nfsg_agent *a, enum nfsg_iter_destroy mode,
	       agent_walk_fn done, void *ctx)
{
	if (a->n_walks == AGENT_WALKS)
		return -EBUSY;
	a->walks[a->n_walks++] = (struct agent_walk){ .mode = mode,
						      .done = done, .ctx = ctx };
	walk_next(a);
	return 0;
}

/* A walk whose asker left: its events only. */
static void forgotten_done(struct nfsg_agent *a, void *ctx,
			   struct sockets_job *job)
{
	struct sockets_result r;

	(void)ctx;
	sockets_finish(job, existing_found, a, &r);
}

void agent_walk_forget(struct nfsg_agent *a, void *ctx)
{
	size_t i;

	for (i = 0; i < a->n_walks; i++)
		if (a->walks[i].ctx == ctx) {
			a->walks[i].done = forgotten_done;
			a->walks[i].ctx = NULL;
		}
}

static void stdout_broke(struct nfsg_agent *a)
{
	if (a->out_broken)
		return;
	a->out_broken = true;
	agent_remove_sink(a, &a->out);
	log_warn("standard output is gone (%s): events go to readers of 'nfsguard events' only%s",
		 strerror(errno ? errno : EPIPE),
		 a->o->persist ? "; enforcing and serving go on" : "");
}

/* Check that the hooks are still attached somewhere. */
static void check_attach_point(struct nfsg_agent *a)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	struct bpf_link *l = a->g.hooks[GUARD_CONNECT4];

	if (!l || a->attach_gone)
		return;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len))
		return;
	if (info.cgroup.cgroup_id)
		return;
	a->attach_gone = true;
	log_err("the attach point, cgroup id %llu, is gone: nothing is enforced until the agent is started on an existing cgroup",
		(unsigned long long)a->cgroup_id);
}

/*
 * Hand out what the ring buffer holds; every POLL_MS, and at the last
 * drain (last), also the dropped count to every sink. In a flood the
 * buffer is never empty, so the wait returns at once and a drain finds a
 * few records: the counters, a system call per slot, are not read at
 * each, nor is stdout flushed at each but every FLUSH_MS (the loop waits
 * no longer while it holds events) and at the last.
 */
static void drain(struct nfsg_agent *a, bool last)
{
	__u64 c[NFSG_CTR_MAX], now, mono = agent_clock_ns(CLOCK_MONOTONIC);
	struct agent_sink *s, *next;
	int n;

	a->boot_to_wall_ns = agent_clock_ns(CLOCK_REALTIME) -
			     agent_clock_ns(CLOCK_BOOTTIME);
	n = ring_buffer__consume(a->rb);
	if (n < 0)
		log_err("reading events failed: %s", strerror(-n));
	if (!last && mono < a->next_counters_ns)
		goto flush;
	a->next_counters_ns = mono + POLL_MS * 1000000ULL;
	if (!guard_read_counters(&a->g, c)) {
		if (c[NFSG_CTR_EVENTS_DROPPED] > a->stats.dropped) {
			now = agent_clock_ns(CLOCK_REALTIME);
			for (s = a->sinks; s; s = next) {
				next = s->next;
				s->dropped(s->ctx, c[NFSG_CTR_EVENTS_DROPPED] -
						   a->stats.dropped, now);
			}
			a->stats.dropped = c[NFSG_CTR_EVENTS_DROPPED];
		}
		/* What was reported, for an agent that adopts the pins. */
		if (a->o->persist)
			persist_save_seen(&a->g, c);
	}
flush:
	if (a->o->interval && !a->out_broken && mono >= a->next_summary_ns) {
		trace_summary_flush(&a->summary, stdout,
				    a->o->format == FORMAT_JSON,
				    agent_clock_ns(CLOCK_REALTIME));
		a->next_summary_ns += a->o->interval * 1000000000ULL;
	}
	if (a->out_broken || (!last && mono < a->next_flush_ns))
		return;
	a->next_flush_ns = mono + FLUSH_MS * 1000000ULL;
	if (fflush(stdout) == EOF || ferror(stdout))
		stdout_broke(a);
}

/* How long the loop may wait: less while printed events wait for it. */
static int wait_ms(const struct nfsg_agent *a)
{
	return !a->out_broken && __fpending(stdout) ? FLUSH_MS : POLL_MS;
}

static int open_target(struct nfsg_agent *a, const char *path)
{
	int err = cgroup_open(&a->cg, path ? path : a->cg.mount, &a->cgroup_fd,
			      &a->cgroup_id);

	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
		log_err("cgroup '%s' does not exist under %s: create it or name an existing cgroup",
			path, a->cg.mount);
		break;
	case -ENOTDIR:
	case -EXDEV:
		log_err("'%s' is not a cgroup2 directory: name a directory under %s",
			path, a->cg.mount);
		break;
	default:
		log_err("cannot open cgroup '%s': %s", path ? path : a->cg.mount,
			strerror(-err));
	}
	a->cgroup_fd = -1;
	return err;
}

static void describe_policy(const struct policy_set *set)
{
	char what[512];
	size_t i;

	for (i = 0; i < set->n; i++) {
		policy_describe(&set->p[i], what, sizeof(what));
		log_info("policy '%s' (%zu cgroup%s): %s", set->p[i].k.name,
			 i ? set->p[i].n_cgroups : 0,
			 set->p[i].n_cgroups == 1 ? "" : "s", what);
	}
}

static const char *pin_dir(const struct nfsg_agent *a)
{
	/* Through the checked directory's fd, never its path again. */
	return a->o->persist ? a->pin.pins.at : NULL;
}

/* One more message in errs, as config.c makes them. */
static void config_errors_add(struct config_errors *errs, const char *msg,
			      int line)
{
	char *copy = strdup(msg), **grown;
	int *lines;

	grown = copy ? realloc(errs->msg, (errs->n + 1) * sizeof(*errs->msg)) : NULL;
	if (grown)
		errs->msg = grown;
	lines = grown ? realloc(errs->line, (errs->n + 1) * sizeof(*errs->line)) : NULL;
	if (lines)
		errs->line = lines;
	if (!lines) {
		free(copy);
		return;
	}
	errs->line[errs->n] = line;
	errs->msg[errs->n++] = copy;
}

/* The TLS relay ports' line (user/efs.c). */
static void say_relays(const char *line, bool warn)
{
	if (warn)
		log_warn("%s", line);
	else
		log_info("%s", line);
}

/* The configuration: the file, else the default file, else embedded. */
static int read_config(const struct nfsg_agent *a, struct policy_set *out,
		       struct config_agent *settings, struct config_errors *errs)
{
	const char *file = a->o->config ? a->o->config : CONFIG_DEFAULT_PATH;
	char msg[PATH_MAX + 128], relays[PATH_MAX + 160];
	bool relay_warn;
	int err;

	/* The TLS relays' ports first: the default policy governs them. */
	efs_relay_ports_load(a->o->efs_conf, relays, sizeof(relays), &relay_warn);
	err = config_read(file, out, settings, errs);
	if (err == -ENOENT && !a->o->config) {
		log_info("configuration: no %s, so the embedded default policy applies",
			 file);
		err = policy_set_default(out);
		if (!err)
			say_relays(relays, relay_warn);
		return err;
	}
	if (!err) {
		log_info("configuration: %s, %zu polic%s", file, out->n,
			 out->n == 1 ? "y" : "ies");
		/* Named, but never reaching our hooks: say so, at start and
		 * at each reload. */
		config_warn_outside(out, cgroup_path((struct cgroup2 *)&a->cg,
						     a->cgroup_id));
	}
	if (err == -ENOENT) {
		snprintf(msg, sizeof(msg),
			 "%s: no such file: create it or leave out --config for the default policy",
			 file);
		log_err("%s", msg);
		config_errors_add(errs, msg, 0);
	}
	/* After the configuration's own line: the first names the file. */
	if (!err)
		say_relays(relays, relay_warn);
	return err;
}

/* One setting of [agent] at start: the option beats the file. */
static const char *setting(const char *file, int line, const char *key,
			   const char *value, const char *opt_name,
			   const char *option)
{
	if (option && line && strcmp(option, value))
		log_info("%s:%d: %s = %s: --%s %s wins", file, line, key,
			 value, opt_name, option);
	return option ? option : line ? value : NULL;
}

/*
 * A reload's [agent] section: the metrics address and the control
 * socket's group are set up at start, so a changed value takes a restart.
 * Said in the log and, as a warning with its line (0 and "(removed)":
 * the key is gone), in the reload's answer.
 */
static void settings_changed(struct nfsg_agent *a, const struct config_agent *now,
			     struct config_errors *warn)
{
	const char *file = a->o->config ? a->o->config : CONFIG_DEFAULT_PATH;
	const struct {
		const char *key, *was, *is, *option;
		int line;
	} s[2] = {
		{ "metrics", a->file.metrics, now->metrics, a->o->metrics,
		  now->metrics_line },
		{ "control_group", a->file.control_group, now->control_group,
		  a->o->control_group, now->control_group_line },
	};
	char msg[PATH_MAX + 256];
	int i;

	for (i = 0; i < 2; i++) {
		if (!strcmp(s[i].was, s[i].is))
			continue;
		if (s[i].line)
			snprintf(msg, sizeof(msg),
				 "%s:%d: %s changed from '%s' to '%s': it takes a restart of the agent%s",
				 file, s[i].line, s[i].key, s[i].was, s[i].is,
				 s[i].option ? " (the command line's value wins even then)" : "");
		else
			snprintf(msg, sizeof(msg),
				 "%s: %s (removed) was '%s': its removal takes a restart of the agent%s",
				 file, s[i].key, s[i].was,
				 s[i].option ? " (the command line's value wins even then)" : "");
		log_warn("%s", msg);
		config_errors_add(warn, msg, s[i].line);
	}
}

int agent_reload(struct nfsg_agent *a, struct config_errors *errs)
{
	struct config_agent now;
	struct config_errors mine = {};
	struct config_errors *e = errs ? errs : &mine;
	__u32 next = a->gen ^ 1;
	struct policy_set fresh = {};
	size_t i, from = e->n;
	int err;

	log_info("reloading the configuration");
	notify("RELOADING=1");
	/* A walk reads the active set: wait for its end (sockets.h). */
	pthread_mutex_lock(&a->walk_lock);
	err = read_config(a, &fresh, &now, e);
	if (err) {
		for (i = from; i < e->n; i++)
			if (e->line[i] || err != -ENOENT)
				log_err("%s", e->msg[i]);
		log_err("configuration invalid: keeping the running policy");
		goto fail;
	}
	/* The idle generation's counters join their policies' totals
	 * before its slots are reused. */
	counters_fold(a->pol_base_fd, bpf_map__fd(a->g.skel->maps.nfsg_pol_ctrs),
		      &a->sets[next], next);
	err = policy_maps_build(&a->g, &fresh, &a->cg, next, pin_dir(a));
	if (!err)
		err = policy_maps_activate(&a->g, &fresh, next);
	if (err) {
		log_err("cannot apply the new policy: keeping the running one");
		config_errors_add(e, "cannot apply the new policy to the kernel: see the agent's log", 0);
		goto fail;
	}
	/* Its errors are said; the new policy is in force whatever they are. */
	policy_maps_rename(&a->g, &fresh, &a->cg, next);
	notify("READY=1");
	/* The generation before last is gone from the kernel now. */
	policy_set_free(&a->sets[next]);
	a->sets[next] = fresh;
	a->gen = next;
	describe_policy(&fresh);
	log_info("reloaded: generation %u active", next);
	pthread_mutex_unlock(&a->walk_lock);
	settings_changed(a, &now, e);
	/* The running value stays, as every [agent] value does until a
	 * restart; but that restart would fail: an error, in the warnings. */
	from = e->n;
	config_agent_check(a->o->config ? a->o->config : CONFIG_DEFAULT_PATH,
			   &now, e);
	for (i = from; i < e->n; i++)
		log_err("%s", e->msg[i]);
	agent_check_existing(a, "reload");
	a->stats.reloads_ok++;
	a->stats.last_reload_ok = true;
	a->stats.last_reload_ns = agent_clock_ns(CLOCK_REALTIME);
	config_errors_free(&mine);
	return 0;
fail:
	pthread_mutex_unlock(&a->walk_lock);
	notify("READY=1");
	policy_set_free(&fresh);
	a->stats.reloads_failed++;
	a->stats.last_reload_ok = false;
	a->stats.last_reload_ns = agent_clock_ns(CLOCK_REALTIME);
	config_errors_free(&mine);
	return err ? err : -EINVAL;
}

static void report_counters(const struct nfsg_agent *a)
{
	__u64 c[NFSG_CTR_MAX];
	int err = guard_read_counters(&a->g, c);

	if (err) {
		log_err("cannot read counters: %s", strerror(-err));
		return;
	}
	log_info("detached; governed connects allowed %llu, refused %llu, audited %llu, events dropped %llu",
		 (unsigned long long)c[NFSG_CTR_ALLOWED],
		 (unsigned long long)c[NFSG_CTR_REFUSED],
		 (unsigned long long)c[NFSG_CTR_AUDITED],
		 (unsigned long long)c[NFSG_CTR_EVENTS_DROPPED]);
	if (a->stats.malformed)
		log_err("%llu event records had an unexpected size: agent and programs are from different builds",
			(unsigned long long)a->stats.malformed);
}

/* What happened while no agent ran, from the counters and its notes. */
static void report_missed(const struct nfsg_agent *a)
{
	const struct nfsg_meta *m = &a->pin.meta;
	__u64 c[NFSG_CTR_MAX];

	if (guard_read_counters(&a->g, c))
		return;
	log_info("adopted the enforcement pinned in %s; since the last agent reported: %llu connects refused, %llu audited, %llu events lost (ring buffer full); the events still buffered follow",
		 a->pin.dir,
		 (unsigned long long)(c[NFSG_CTR_REFUSED] - m->seen_refused),
		 (unsigned long long)(c[NFSG_CTR_AUDITED] - m->seen_audited),
		 (unsigned long long)(c[NFSG_CTR_EVENTS_DROPPED] - m->seen_dropped));
}

/* Resolve a single --cgroup filter to an id and a depth, for the kernel. */
static int filter_cgroup(struct nfsg_agent *a, struct guard_opts *gopts)
{
	const char *c;
	__u64 id;
	int fd, err;

	if (!gopts->filters->cgroup)
		return 0;
	err = cgroup_open(&a->cg, gopts->filters->cgroup, &fd, &id);
	if (err) {
		log_err("cannot filter on cgroup '%s': %s: name an existing cgroup",
			gopts->filters->cgroup, strerror(-err));
		return err;
	}
	close(fd);
	gopts->filter_cgroup_id = id;
	/* Its level is the number of components below the root. */
	for (c = cgroup_path(&a->cg, id); *c; c++)
		gopts->filter_cgroup_level += *c == '/' && c[1];
	return 0;
}

/* Open, reuse pinned maps, load; without tracing if that will not load. */
static int open_and_load(struct nfsg_agent *a, struct guard_opts *gopts)
{
	int err = guard_open(&a->g, gopts);

	if (!err && a->o->persist)
		err = persist_reuse_maps(&a->pin, &a->g);
	if (!err)
		err = guard_load(&a->g);
	if (err && gopts->trace) {
		log_err("loading with tracing failed; trying without it (rerun with -v for the kernel's reasons)");
		guard_destroy(&a->g);
		gopts->trace = false;
		return open_and_load(a, gopts);
	}
	return err;
}

/* Load the programs; decide the plan from what persist found. */
static int load(struct nfsg_agent *a, struct trace_filters *kf)
{
	struct guard_opts gopts = {
		.ringbuf_bytes = RINGBUF_BYTES,
		.wakeup_bytes = WAKEUP_BYTES,
		.rl_rate = a->o->rl_rate,
		.rl_burst = a->o->rl_burst,
		.trace = a->o->trace && a->plan.trace,
		.filters = kf,
		.plan = &a->plan,
	};
	int err;

	if (a->o->trace && !a->plan.trace)
		log_err("tracing unavailable on this kernel (it needs socket cookies in BTF tracepoints, Linux 5.12): enforcing without it");
	err = filter_cgroup(a, &gopts);
	if (!err)
		err = open_and_load(a, &gopts);
	if (!err && gopts.trace && guard_attach_trace(&a->g)) {
		log_err("tracing unavailable: its tracepoints would not attach; enforcing without it");
		guard_destroy(&a->g);
		gopts.trace = false;
		err = open_and_load(a, &gopts);
	}
	if (err)
		return err;
	a->start = !a->o->persist || !a->pin.found ? AGENT_FRESH
		   : a->pin.adopt ? AGENT_ADOPT : AGENT_REBUILD;
	return 0;
}

/* Before anything is loaded: what must hold for a start at all. */
static int preflight(struct nfsg_agent *a, struct policy_set *policy)
{
	struct config_errors errs = {};
	const char *file;
	size_t i;
	int err;

	err = open_target(a, a->o->cgroup);
	if (err)
		return err;
	if (!a->o->persist && persist_exists(a->o->pin_dir)) {
		log_err("nfsguard enforcement is pinned in %s: take it over with 'nfsguard run --persist', or remove it with 'nfsguard uninstall'",
			a->o->pin_dir);
		return -EBUSY;
	}
	/* The file first: a bad one is the one line said. */
	err = read_config(a, policy, &a->file, &errs);
	for (i = 0; err && err != -ENOENT && i < errs.n; i++)
		log_err("%s", errs.msg[i]);
	config_errors_free(&errs);
	if (err)
		return err;
	file = a->o->config ? a->o->config : CONFIG_DEFAULT_PATH;
	a->metrics_addr = setting(file, a->file.metrics_line, "metrics",
				  a->file.metrics, "metrics", a->o->metrics);
	a->control_group = setting(file, a->file.control_group_line,
				   "control_group", a->file.control_group,
				   "control-group", a->o->control_group);
	err = probe_kernel(&a->plan);
	if (err)
		return err;
	if (!a->o->persist)
		return 0;
	err = persist_open(&a->pin, a->o->pin_dir);
	if (!err && a->pin.cgroup_id && a->pin.cgroup_id != a->cgroup_id) {
		log_err("the enforcement pinned in %s is attached to another cgroup (id %llu): run 'nfsguard uninstall' first",
			a->pin.dir, (unsigned long long)a->pin.cgroup_id);
		err = -EBUSY;
	}
	return err;
}

/*
 * Fresh maps: the policy first, then the hooks. Adopted maps: the pinned
 * hooks switch to our programs, then our policy goes live; until then
 * they go on enforcing the adopted one. Rebuilt maps: as fresh, and the
 * hooks switch from the old maps' programs to ours at once.
 */
static int go_live(struct nfsg_agent *a, __u32 gen)
{
	int err = 0;

	if (a->start != AGENT_ADOPT)
		err = policy_maps_activate(&a->g, &a->sets[gen], gen);
	if (!err)
		err = a->o->persist ? persist_attach(&a->pin, &a->g, a->cgroup_fd,
						     a->cgroup_id)
				    : guard_attach(&a->g, a->cgroup_fd);
	if (!err && a->start == AGENT_ADOPT)
		err = policy_maps_activate(&a->g, &a->sets[gen], gen);
	if (!err) {
		a->gen = gen;
		policy_maps_rename(&a->g, &a->sets[gen], &a->cg, gen);
	}
	return err;
}

static int add_fd(struct nfsg_agent *a, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
		log_err("cannot wait on fd %d: %s", fd, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Before any thread is made: threads take their maker's nice value. */
static void raise_priority(void)
{
	int now;

	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (errno || now <= AGENT_NICE)
		return;
	if (setpriority(PRIO_PROCESS, 0, AGENT_NICE))
		log_warn("cannot raise the agent's priority to nice %d (%s): under a flood of refused connects on every CPU it may drop events, which it counts; grant CAP_SYS_NICE",
			 AGENT_NICE, strerror(errno));
}

int agent_start(struct nfsg_agent *a, const struct agent_opts *o)
{
	struct policy_set policy = {};
	struct trace_filters kf;
	__u32 gen = 0;
	int err;

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->walk_lock, NULL);
	a->o = o;
	a->cgroup_fd = a->epoll_fd = a->pol_base_fd = -1;
	a->pin.old_counters_fd = -1;
	a->started_ns = agent_clock_ns(CLOCK_MONOTONIC);
	raise_priority();
	a->out = (struct agent_sink){ .event = out_event,
				      .dropped = out_dropped, .ctx = a };
	filter_to_kernel(&o->filters, &kf);
	err = cgroup2_open(&a->cg);
	if (err == -ENOENT) {
		log_err("no cgroup2 file system is mounted: mount one, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified");
		goto fail;
	} else if (err) {
		log_err("cannot open the cgroup2 mount: %s", strerror(-err));
		goto fail;
	}
	err = preflight(a, &policy);
	if (!err)
		err = control_open(&a->ctl, a, o->control, a->control_group);
	if (!err)
		err = load(a, &kf);
	/* Watch first, so no cgroup is created unseen while we name them. */
	if (!err)
		err = guard_watch_cgroups(&a->g);
	if (!err && a->start == AGENT_ADOPT) {
		a->gen = guard_get_gen(&a->g);
		/* The adopted generations' names, for buffered events and
		 * for the counters of the generation about to be rebuilt. */
		if (!err && policy_maps_read_pinned(a->pin.pins.at, a->gen,
						    &a->sets[a->gen]))
			log_info("the adopted policy's names are unknown: its buffered events show policy '?'");
		if (!err)
			policy_maps_read_pinned(a->pin.pins.at, a->gen ^ 1,
						&a->sets[a->gen ^ 1]);
		gen = a->gen ^ 1;
	}
	if (!err)
		err = counters_open(&a->pol_base_fd, a->o->persist ? &a->pin : NULL,
				    a->start);
	if (!err && a->start == AGENT_ADOPT)
		counters_fold(a->pol_base_fd,
			      bpf_map__fd(a->g.skel->maps.nfsg_pol_ctrs),
			      &a->sets[gen], gen);
	if (!err)
		err = policy_maps_build(&a->g, &policy, &a->cg, gen, pin_dir(a));
	if (err)
		goto fail;
	policy_set_free(&a->sets[gen]);
	a->sets[gen] = policy;
	memset(&policy, 0, sizeof(policy));
	a->rb = ring_buffer__new(guard_events_fd(&a->g), on_event, a, NULL);
	if (!a->rb) {
		err = -errno;
		log_err("cannot open the event ring buffer: %s", strerror(-err));
		goto fail;
	}
	err = go_live(a, gen);
	if (err)
		goto fail;
	if (a->start == AGENT_REBUILD)
		counters_carry_pinned(a->pol_base_fd, &a->pin);
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epoll_fd < 0) {
		err = -errno;
		log_err("cannot create an epoll instance: %s", strerror(-err));
		goto fail;
	}
	err = add_fd(a, ring_buffer__epoll_fd(a->rb), NULL);
	if (!err && a->ctl)
		err = control_watch(a->ctl, a->epoll_fd);
	if (!err && a->metrics_addr)
		err = metrics_open(&a->metrics, a, a->metrics_addr, a->epoll_fd);
	if (err)
		goto fail;

	describe_policy(&a->sets[a->gen]);
	if (a->start == AGENT_ADOPT)
		report_missed(a);
	if (o->interval)
		a->next_summary_ns = agent_clock_ns(CLOCK_MONOTONIC) +
				     o->interval * 1000000000ULL;
	agent_add_sink(a, &a->out);
	log_info("enforcing on cgroup %s (id %llu)%s; %s",
		 cgroup_path(&a->cg, a->cgroup_id),
		 (unsigned long long)a->cgroup_id,
		 a->g.trace[0] ? ", tracing" : "",
		 o->persist ? "pinned, so it outlives the agent"
			    : "Ctrl-C detaches");
	notify("READY=1");
	if (!o->interval)
		format_header(stdout, o->format);
	/* Before the first poll: it may print events buffered long ago. */
	a->boot_to_wall_ns = agent_clock_ns(CLOCK_REALTIME) -
			     agent_clock_ns(CLOCK_BOOTTIME);
	/* Enforcement is in place: what was connected before it. */
	/* What was connected before: checked first thing in the loop, so
	 * that a takeover swaps the hooks without waiting for the walk. */
	a->existing_pending = a->start == AGENT_FRESH ? "start" : "takeover";
	return 0;
fail:
	policy_set_free(&policy);
	return err;
}

int agent_loop(struct nfsg_agent *a, volatile int *stop, volatile int *reload)
{
	struct epoll_event evs[32];
	__u64 next_check = 0, now;
	int n, i, err = 0;

	if (a->existing_pending) {
		agent_check_existing(a, a->existing_pending);
		a->existing_pending = NULL;
	}
	while (!*stop && !a->quit) {
		n = epoll_wait(a->epoll_fd, evs, 32, wait_ms(a));
		if (n < 0 && errno != EINTR) {
			err = -errno;
			log_err("waiting for events failed: %s", strerror(-err));
			break;
		}
		drain(a, false);
		for (i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				continue;	/* the ring buffer: drained */
			if (evs[i].data.ptr == WALK_TAG(a)) {
				walk_ended(a);
				continue;
			}
			if (a->metrics && metrics_owns(a->metrics, evs[i].data.ptr))
				continue;	/* served below */
			control_ready(a->ctl, evs[i].data.ptr, evs[i].events);
		}
		if (a->metrics)
			metrics_run(a->metrics);
		if (a->ctl)
			control_flush(a->ctl);
		if (*reload) {
			*reload = 0;
			agent_reload(a, NULL);
		}
		now = agent_clock_ns(CLOCK_MONOTONIC);
		if (now >= next_check) {
			check_attach_point(a);
			next_check = now + ATTACH_CHECK_NS;
		}
		/* A foreground agent's output is the point of it. */
		if (a->out_broken && !a->o->persist) {
			err = -EPIPE;
			break;
		}
	}
	return err;
}

int agent_uninstall(struct nfsg_agent *a, const char *pin_dir, FILE *out)
{
	int n;

	if (!a->o->persist || strcmp(pin_dir, a->o->pin_dir))
		return -ESRCH;
	n = persist_remove(&a->pin.pins, a->pin.dir, out);
	if (n < 0 && n != -ENOTEMPTY)
		return n;
	/* Nothing of ours is pinned now: the hooks go at once, we next. */
	guard_detach(&a->g);
	a->quit = true;
	log_info("uninstall: the pins in %s are removed and the hooks detached; stopping",
		 a->pin.dir);
	return n;
}

void agent_stop(struct nfsg_agent *a)
{
	notify("STOPPING=1");
	if (a->o->persist) {
		drain(a, true);
		/* 'nfsguard uninstall' stops us, then unpins: say what holds. */
		if (persist_exists(a->o->pin_dir))
			log_info("stopped; the pins in %s keep enforcing ('nfsguard uninstall' removes them)",
				 a->pin.dir);
		else
			log_info("stopped; nothing is pinned in %s: enforcement ends with this agent",
				 a->pin.dir);
		return;
	}
	/* Detach first, then print what the programs said until then. */
	guard_detach(&a->g);
	drain(a, true);
	report_counters(a);
}

void agent_destroy(struct nfsg_agent *a)
{
	struct sockets_result r;
	int i;

	/* A walk still running ends before what it uses goes; its
	 * sockets are not reported any more. */
	if (a->job)
		sockets_finish(a->job, NULL, NULL, &r);
	a->job = NULL;
	a->n_walks = 0;
	pthread_mutex_destroy(&a->walk_lock);

	metrics_close(a->metrics);
	a->metrics = NULL;
	control_close(a->ctl);
	a->ctl = NULL;
	ring_buffer__free(a->rb);
	a->rb = NULL;
	guard_destroy(&a->g);
	persist_close(&a->pin);
	if (a->pol_base_fd >= 0)
		close(a->pol_base_fd);
	if (a->cgroup_fd >= 0)
		close(a->cgroup_fd);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	a->pol_base_fd = a->cgroup_fd = a->epoll_fd = -1;
	for (i = 0; i < NFSG_GENERATIONS; i++)
		policy_set_free(&a->sets[i]);
	trace_summary_free(&a->summary);
	cgroup2_close(&a->cg);
}
