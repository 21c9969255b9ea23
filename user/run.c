// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard run: probe, load, apply the policy, attach, stream events until
 * SIGINT/SIGTERM, then detach. SIGHUP re-reads the configuration and
 * switches to it atomically, or keeps the running policy if it is invalid.
 * Nothing stays attached after it returns, on any path.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "cgroup.h"
#include "commands.h"
#include "config.h"
#include "format.h"
#include "guard_prog.h"
#include "log.h"
#include "parse.h"
#include "notify.h"
#include "persist.h"
#include "policy.h"
#include "policy_maps.h"
#include "probe.h"
#include "backstop.h"
#include "trace.h"

/* Events wait in the ring buffer at most this long before being printed. */
#define POLL_MS 100
#define RINGBUF_BYTES (1U << 20)
/* Wake the agent early once this much is pending (see bpf/events.h). */
#define WAKEUP_BYTES (RINGBUF_BYTES / 16)

struct run_opts {
	const char *cgroup;	/* where to attach (NULL: the cgroup2 root) */
	const char *config;	/* NULL: CONFIG_DEFAULT_PATH if it exists */
	const char *pin_dir;
	bool persist;
	bool trace_cmd;		/* 'nfsguard trace': --cgroup filters */
	bool trace;		/* follow allowed connects to their outcome */
	__u32 interval;		/* seconds between summaries; 0: events */
	__u32 rl_rate, rl_burst;
	bool rate_given;
	struct trace_filters filters;
	enum format_kind format;
};

struct run_state {
	const struct run_opts *o;
	struct cgroup2 cg;
	struct guard g;
	struct persist pin;	/* with --persist */
	struct kplan plan;	/* what this kernel supports, and so uses */
	struct policy_set sets[NFSG_GENERATIONS]; /* by generation */
	__u32 gen;		/* the active one */
	__u64 boot_to_wall_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	__u64 malformed;	/* records of an unexpected size */
	__u64 dropped_seen;	/* events dropped, as last reported */
	struct trace_summary summary;	/* with --interval */
	__u64 next_summary_ns;
	bool output_closed;
};

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static const struct argp_option options[] = {
	{ "cgroup", 'c', "PATH", 0,
	  "Attach to this cgroup (relative to the cgroup2 mount, or a full "
	  "path under it) instead of the cgroup2 root", 0 },
	{ "config", 'f', "FILE", 0,
	  "Read the policy from FILE (default " CONFIG_DEFAULT_PATH
	  "; without it, the embedded default policy applies)", 0 },
	{ "json", 'j', NULL, 0, "Print events as JSON lines", 0 },
	{ "persist", 'p', NULL, 0,
	  "Service mode: pin programs, links and maps so that enforcement "
	  "outlives the agent; adopt what an earlier agent pinned", 0 },
	{ "pin-dir", 'P', "DIR", 0,
	  "Where --persist pins (default " PERSIST_DEFAULT_DIR ")", 0 },
	{ NULL, 0, NULL, 0, "Tracing:", 1 },
	{ "trace", 't', NULL, 0,
	  "Also report allowed connects to governed ports: established (with "
	  "latency), reset, timed out or failed, and their close", 1 },
	{ "interval", 'i', "SECONDS", 0,
	  "Print a summary per destination every SECONDS instead of events "
	  "(implies --trace)", 1 },
	{ "uid", 'u', "UID", 0, "Only events of this socket owner", 1 },
	{ "pid", 'x', "PID", 0, "Only events of this process", 1 },
	{ "comm", 'm', "NAME", 0, "Only events of tasks with this name", 1 },
	{ "port", 'o', "PORT", 0, "Only events to this destination port", 1 },
	{ "daddr", 'd', "CIDR", 0, "Only events to these addresses", 1 },
	{ "attach", 'a', "PATH", 0,
	  "(trace) attach to this cgroup; --cgroup then filters", 1 },
	{ "rate", 'r', "N", 0,
	  "At most N events a second per cgroup and uid (default 100; 0: no "
	  "limit); what is held back is counted and reported", 1 },
	{ "burst", 'b', "N", 0, "Up to N events at once (default 100)", 1 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages and the verifier log",
	  0 },
	{},
};

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
	"  nfsguard run --persist                # as a service: survives the agent\n";

static error_t parse_run(int key, char *arg, struct argp_state *state)
{
	struct run_opts *o = state->input;
	__u32 port;

	switch (key) {
	case 'c':
		if (!*arg)
			argp_error(state, "--cgroup needs a path");
		if (o->trace_cmd)
			o->filters.cgroup = arg;
		else
			o->cgroup = arg;
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
	case 't':
		o->trace = true;
		return 0;
	case 'i':
		if (!parse_u32(arg, 1, 86400, &o->interval))
			argp_error(state, "--interval needs seconds from 1 to 86400, not '%s'",
				   arg);
		o->trace = true;
		return 0;
	case 'u':
		if (!parse_u32(arg, 0, 0xfffffffe, &o->filters.uid))
			argp_error(state, "--uid needs a uid, not '%s'", arg);
		o->filters.uid_on = true;
		return 0;
	case 'x':
		if (!parse_u32(arg, 1, 0x7fffffff, &o->filters.pid))
			argp_error(state, "--pid needs a process id, not '%s'", arg);
		o->filters.pid_on = true;
		return 0;
	case 'm':
		if (!*arg || strlen(arg) >= NFSG_COMM_LEN)
			argp_error(state, "--comm needs a name of 1 to 15 characters");
		snprintf(o->filters.comm, sizeof(o->filters.comm), "%s", arg);
		return 0;
	case 'o':
		if (!parse_u32(arg, 1, 65535, &port))
			argp_error(state, "--port needs a port from 1 to 65535, not '%s'",
				   arg);
		o->filters.port = port;
		o->filters.port_on = true;
		return 0;
	case 'd':
		if (!parse_cidr(arg, &o->filters.daddr))
			argp_error(state, "--daddr needs an address or CIDR, not '%s'",
				   arg);
		o->filters.daddr_on = true;
		return 0;
	case 'a':
		if (!*arg)
			argp_error(state, "--attach needs a path");
		o->cgroup = arg;
		return 0;
	case 'r':
		if (!parse_u32(arg, 0, 1000000, &o->rl_rate))
			argp_error(state, "--rate needs events per second from 0 to 1000000, not '%s'",
				   arg);
		o->rate_given = true;
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
		/* Summaries count every attempt: no limit unless asked for. */
		if (o->interval && !o->rate_given)
			o->rl_rate = 0;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp run_argp = {
	.options = options,
	.parser = parse_run,
	.doc = run_doc,
};

static const char trace_doc[] =
	"Enforce like 'nfsguard run' and trace every connect attempt to a "
	"governed port: refused ones, and allowed ones to their outcome "
	"(established with its latency, reset by the server, timed out, failed "
	"locally) and their close (lifetime, bytes). Filters apply in the "
	"kernel. Here --cgroup filters by cgroup subtree; --attach says where "
	"to attach (default the cgroup2 root)."
	"\v"
	"Examples:\n"
	"  nfsguard trace                        # every NFS connect\n"
	"  nfsguard trace --uid 1000 --json      # one user's, as JSON\n"
	"  nfsguard trace --daddr 10.0.0.0/8 --port 2049\n"
	"  nfsguard trace --cgroup /kubepods.slice --interval 10\n";

static const struct argp trace_argp = {
	.options = options,
	.parser = parse_run,
	.doc = trace_doc,
};

static __u64 clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct run_state *s = ctx;
	const struct nfsg_event *e = data;
	const struct policy_set *set;
	struct format_names n;

	const struct nfsg_cgroup_event *ce = data;
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
		s->malformed++;
		return 0;
	}
	/* First: the client waits on it. */
	if (e->kind == NFSG_EV_EGRESS && e->verdict == NFSG_VERDICT_REFUSE)
		backstop_abort(data);
	if (s->o->interval && !cgroup_event) {
		trace_summary_add(&s->summary, e, trace_event ?
				  ((const struct nfsg_trace_event *)e)->duration_ns : 0);
		return 0;
	}
	set = &s->sets[e->gen];
	n.wall_ns = e->ts_boot_ns + s->boot_to_wall_ns;
	if (!cgroup_event) {
		n.cgroup = cgroup_path(&s->cg, e->cgroup_id);
	} else {
		/* The cgroup may be gone already: the kernel sent its path. */
		snprintf(path, sizeof(path), "%.*s", NFSG_PATH_LEN - 1,
			 ce->path);
		n.cgroup = path;
	}
	n.policy = e->policy < set->n ? set->p[e->policy].k.name : "?";
	format_event(stdout, s->o->format, e, &n);
	return 0;
}

/* Print what is pending; false once stdout is gone. */
static bool drain(struct ring_buffer *rb, struct run_state *s)
{
	__u64 c[NFSG_CTR_MAX];
	int n;

	s->boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	n = ring_buffer__consume(rb);
	if (n < 0)
		log_err("reading events failed: %s", strerror(-n));
	if (!guard_read_counters(&s->g, c)) {
		if (c[NFSG_CTR_EVENTS_DROPPED] > s->dropped_seen) {
			format_dropped(stdout, s->o->format,
				       c[NFSG_CTR_EVENTS_DROPPED] - s->dropped_seen,
				       clock_ns(CLOCK_REALTIME));
			s->dropped_seen = c[NFSG_CTR_EVENTS_DROPPED];
		}
		/* What was reported, for an agent that adopts the pins. */
		if (s->o->persist)
			persist_save_seen(&s->g, c);
	}
	if (s->o->interval && clock_ns(CLOCK_MONOTONIC) >= s->next_summary_ns) {
		trace_summary_flush(&s->summary, stdout,
				    s->o->format == FORMAT_JSON,
				    clock_ns(CLOCK_REALTIME));
		s->next_summary_ns += s->o->interval * 1000000000ULL;
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		s->output_closed = true;
	return !s->output_closed;
}

static int open_target(struct run_state *s, const char *path, int *fd,
		       __u64 *id)
{
	int err = cgroup_open(&s->cg, path ? path : s->cg.mount, fd, id);

	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
		log_err("cgroup '%s' does not exist under %s: create it or name an existing cgroup",
			path, s->cg.mount);
		break;
	case -ENOTDIR:
	case -EXDEV:
		log_err("'%s' is not a cgroup2 directory: name a directory under %s",
			path, s->cg.mount);
		break;
	default:
		log_err("cannot open cgroup '%s': %s", path ? path : s->cg.mount,
			strerror(-err));
	}
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

static const char *pin_dir(const struct run_state *s)
{
	/* Through the checked directory's fd, never its path again. */
	return s->o->persist ? s->pin.pins.at : NULL;
}

/* SIGHUP: the new file, in the idle generation, then one switch. */
static void do_reload(struct run_state *s)
{
	__u32 next = s->gen ^ 1;
	struct policy_set fresh;

	log_info("reloading the configuration");
	notify("RELOADING=1");
	if (config_load(s->o->config, &fresh)) {
		log_err("configuration invalid: keeping the running policy");
		notify("READY=1");
		return;
	}
	if (policy_maps_build(&s->g, &fresh, &s->cg, next, pin_dir(s)) ||
	    policy_maps_activate(&s->g, &fresh, next)) {
		log_err("cannot apply the new policy: keeping the running one");
		policy_set_free(&fresh);
		notify("READY=1");
		return;
	}
	notify("READY=1");
	/* The generation before last is gone from the kernel now. */
	policy_set_free(&s->sets[next]);
	s->sets[next] = fresh;
	s->gen = next;
	describe_policy(&fresh);
	log_info("reloaded: generation %u active", next);
}

static void report_counters(const struct run_state *s)
{
	__u64 c[NFSG_CTR_MAX];
	int err = guard_read_counters(&s->g, c);

	if (err) {
		log_err("cannot read counters: %s", strerror(-err));
		return;
	}
	log_info("detached; governed connects allowed %llu, refused %llu, audited %llu, events dropped %llu",
		 (unsigned long long)c[NFSG_CTR_ALLOWED],
		 (unsigned long long)c[NFSG_CTR_REFUSED],
		 (unsigned long long)c[NFSG_CTR_AUDITED],
		 (unsigned long long)c[NFSG_CTR_EVENTS_DROPPED]);
	if (s->malformed)
		log_err("%llu event records had an unexpected size: agent and programs are from different builds",
			(unsigned long long)s->malformed);
}

/* What happened while no agent ran, from the counters and its notes. */
static void report_missed(const struct run_state *s)
{
	const struct nfsg_meta *m = &s->pin.meta;
	__u64 c[NFSG_CTR_MAX];

	if (guard_read_counters(&s->g, c))
		return;
	log_info("adopted the enforcement pinned in %s; since the last agent reported: %llu connects refused, %llu audited, %llu events lost (ring buffer full); the events still buffered follow",
		 s->pin.dir,
		 (unsigned long long)(c[NFSG_CTR_REFUSED] - m->seen_refused),
		 (unsigned long long)(c[NFSG_CTR_AUDITED] - m->seen_audited),
		 (unsigned long long)(c[NFSG_CTR_EVENTS_DROPPED] - m->seen_dropped));
}

/* Resolve the --cgroup filter of 'nfsguard trace' to an id and a depth. */
static int filter_cgroup(struct run_state *s, struct guard_opts *gopts)
{
	const char *c;
	__u64 id;
	int fd, err;

	if (!s->o->filters.cgroup)
		return 0;
	err = cgroup_open(&s->cg, s->o->filters.cgroup, &fd, &id);
	if (err) {
		log_err("cannot filter on cgroup '%s': %s: name an existing cgroup",
			s->o->filters.cgroup, strerror(-err));
		return err;
	}
	close(fd);
	gopts->filter_cgroup_id = id;
	/* Its level is the number of components below the root. */
	for (c = cgroup_path(&s->cg, id); *c; c++)
		gopts->filter_cgroup_level += *c == '/' && c[1];
	return 0;
}

/* Open, reuse pinned maps, load; without tracing if that will not load. */
static int open_and_load(struct run_state *s, struct guard_opts *gopts)
{
	int err = guard_open(&s->g, gopts);

	if (!err && s->o->persist)
		err = persist_reuse_maps(&s->pin, &s->g);
	if (!err)
		err = guard_load(&s->g);
	if (err && gopts->trace) {
		log_err("loading with tracing failed; trying without it (rerun with -v for the kernel's reasons)");
		guard_destroy(&s->g);
		gopts->trace = false;
		return open_and_load(s, gopts);
	}
	return err;
}

/*
 * Load the programs and build policy (which this takes over) into *gen:
 * generation 0 of fresh maps, or the idle generation of adopted ones. It
 * is made active later, once the hooks run programs that can use it.
 */
static int load_and_build(struct run_state *s, struct policy_set *policy,
			  __u32 *gen)
{
	struct guard_opts gopts = {
		.ringbuf_bytes = RINGBUF_BYTES,
		.wakeup_bytes = WAKEUP_BYTES,
		.rl_rate = s->o->rl_rate,
		.rl_burst = s->o->rl_burst,
		.trace = s->o->trace && s->plan.trace,
		.filters = &s->o->filters,
		.plan = &s->plan,
	};
	int err;

	*gen = 0;
	if (s->o->trace && !s->plan.trace)
		log_err("tracing unavailable on this kernel (it needs socket cookies in BTF tracepoints, Linux 5.12): enforcing without it");
	err = filter_cgroup(s, &gopts);
	if (!err)
		err = open_and_load(s, &gopts);
	if (!err && gopts.trace && guard_attach_trace(&s->g)) {
		log_err("tracing unavailable: its tracepoints would not attach; enforcing without it");
		guard_destroy(&s->g);
		gopts.trace = false;
		err = open_and_load(s, &gopts);
	}
	/* Watch first, so no cgroup is created unseen while we name them. */
	if (!err)
		err = guard_watch_cgroups(&s->g);
	if (err)
		goto fail;
	if (s->o->persist && s->pin.adopt) {
		err = guard_get_gen(&s->g, &s->gen);
		if (err)
			goto fail;
		/* The adopted generation's names, for its buffered events. */
		if (policy_maps_read_pinned(s->pin.pins.at, s->gen, &s->sets[s->gen]))
			log_info("the adopted policy's names are unknown: its buffered events show policy '?'");
		*gen = s->gen ^ 1;
	}
	err = policy_maps_build(&s->g, policy, &s->cg, *gen, pin_dir(s));
	if (err)
		goto fail;
	policy_set_free(&s->sets[*gen]);
	s->sets[*gen] = *policy;
	return 0;
fail:
	policy_set_free(policy);
	return err;
}

static int enforce(struct run_state *s)
{
	struct ring_buffer *rb = NULL;
	struct policy_set policy = {};
	bool adopt;
	__u64 cgid;
	__u32 gen;
	int cgfd = -1, err;

	err = open_target(s, s->o->cgroup, &cgfd, &cgid);
	if (err)
		goto out;
	if (!s->o->persist && persist_exists(s->o->pin_dir)) {
		log_err("nfsguard enforcement is pinned in %s: take it over with 'nfsguard run --persist', or remove it with 'nfsguard uninstall'",
			s->o->pin_dir);
		err = -EBUSY;
		goto out;
	}
	/* The file first: a bad one is the one line said. */
	err = config_load(s->o->config, &policy);
	if (err)
		goto out;
	err = probe_kernel(&s->plan);
	if (err) {
		policy_set_free(&policy);
		goto out;
	}
	if (s->o->persist) {
		err = persist_open(&s->pin, s->o->pin_dir);
		if (!err && s->pin.cgroup_id && s->pin.cgroup_id != cgid) {
			log_err("the enforcement pinned in %s is attached to another cgroup (id %llu): run 'nfsguard uninstall' first",
				s->pin.dir, (unsigned long long)s->pin.cgroup_id);
			err = -EBUSY;
		}
		if (err) {
			policy_set_free(&policy);
			goto out;
		}
	}
	err = load_and_build(s, &policy, &gen);
	if (err)
		goto out;
	rb = ring_buffer__new(guard_events_fd(&s->g), on_event, s, NULL);
	if (!rb) {
		err = -errno;
		log_err("cannot open the event ring buffer: %s", strerror(-err));
		goto out;
	}
	/* Fresh maps: the policy first, then the hooks. Adopted maps: the
	 * pinned hooks switch to our programs, then our policy goes live;
	 * until then they go on enforcing the adopted one. */
	adopt = s->o->persist && s->pin.adopt;
	if (!adopt)
		err = policy_maps_activate(&s->g, &s->sets[gen], gen);
	if (!err)
		err = s->o->persist ? persist_attach(&s->pin, &s->g, cgfd, cgid)
				    : guard_attach(&s->g, cgfd);
	if (!err && adopt)
		err = policy_maps_activate(&s->g, &s->sets[gen], gen);
	if (err)
		goto out;
	s->gen = gen;

	describe_policy(&s->sets[s->gen]);
	if (s->o->persist && s->pin.adopt)
		report_missed(s);
	if (s->o->interval)
		s->next_summary_ns = clock_ns(CLOCK_MONOTONIC) +
				     s->o->interval * 1000000000ULL;
	log_info("enforcing on cgroup %s (id %llu)%s; %s",
		 cgroup_path(&s->cg, cgid), (unsigned long long)cgid,
		 s->g.trace[0] ? ", tracing" : "",
		 s->o->persist ? "pinned, so it outlives the agent"
			       : "Ctrl-C detaches");
	notify("READY=1");
	if (!s->o->interval)
		format_header(stdout, s->o->format);
	/* Before the first poll: it may print events buffered long ago. */
	s->boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	while (!stop) {
		err = ring_buffer__poll(rb, POLL_MS);
		if (err < 0 && err != -EINTR) {
			log_err("waiting for events failed: %s", strerror(-err));
			break;
		}
		err = 0;
		if (!drain(rb, s))
			break;
		if (reload) {
			reload = 0;
			do_reload(s);
		}
	}
	notify("STOPPING=1");
	if (s->o->persist) {
		drain(rb, s);
		log_info("stopped; enforcement stays pinned in %s ('nfsguard uninstall' removes it)",
			 s->pin.dir);
		goto out;
	}
	/* Detach first, then print what the programs said until then. */
	guard_detach(&s->g);
	drain(rb, s);
	report_counters(s);
out:
	ring_buffer__free(rb);
	guard_destroy(&s->g);
	persist_close(&s->pin);
	if (cgfd >= 0)
		close(cgfd);
	return err;
}

static int run_main(int argc, char **argv, bool trace_cmd)
{
	struct run_opts o = { .format = FORMAT_TEXT,
			      .pin_dir = PERSIST_DEFAULT_DIR,
			      .trace_cmd = trace_cmd, .trace = trace_cmd,
			      .rl_rate = TRACE_DEFAULT_RATE,
			      .rl_burst = TRACE_DEFAULT_BURST };
	struct sigaction sa = { .sa_handler = on_signal };
	struct run_state *s;
	int err, i;

	if (argp_parse(trace_cmd ? &trace_argp : &run_argp, argc, argv, 0, NULL,
		       &o))
		return EXIT_USAGE;
	log_setup_libbpf();
	if (probe_privileges() || probe_btf())
		return EXIT_FAILURE;

	s = calloc(1, sizeof(*s));
	if (!s) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	s->o = &o;
	err = cgroup2_open(&s->cg);
	if (err == -ENOENT) {
		log_err("no cgroup2 file system is mounted: mount one, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified");
		goto out;
	} else if (err) {
		log_err("cannot open the cgroup2 mount: %s", strerror(-err));
		goto out;
	}

	/* No SA_RESTART: a signal must interrupt the poll. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = enforce(s);
out:
	for (i = 0; i < NFSG_GENERATIONS; i++)
		policy_set_free(&s->sets[i]);
	trace_summary_free(&s->summary);
	cgroup2_close(&s->cg);
	free(s);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}

int cmd_run(int argc, char **argv)
{
	return run_main(argc, argv, false);
}

int cmd_trace(int argc, char **argv)
{
	return run_main(argc, argv, true);
}
