// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * nfsguard run: probe, load, attach, stream events until SIGINT/SIGTERM,
 * then detach. Nothing stays attached after it returns, on any path.
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
#include "cgroup.h"
#include "commands.h"
#include "format.h"
#include "guard_prog.h"
#include "log.h"
#include "policy.h"
#include "probe.h"

/* Events wait in the ring buffer at most this long before being printed. */
#define POLL_MS 100
#define RINGBUF_BYTES (1U << 20)
/* Wake the agent early once this much is pending (see guard.bpf.c). */
#define WAKEUP_BYTES (RINGBUF_BYTES / 16)

struct run_opts {
	const char *cgroup;
	enum format_kind format;
};

struct run_state {
	struct cgroup2 cg;
	enum format_kind format;
	__u64 boot_to_wall_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	__u64 malformed;	/* records of an unexpected size */
	bool output_closed;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const struct argp_option options[] = {
	{ "cgroup", 'c', "PATH", 0,
	  "Attach to this cgroup (relative to the cgroup2 mount, or a full "
	  "path under it) instead of the cgroup2 root", 0 },
	{ "json", 'j', NULL, 0, "Print events as JSON lines", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages and the verifier log",
	  0 },
	{},
};

static const char run_doc[] =
	"Load nfsguard's programs, enforce the default policy (the EFS owner "
	"rule: only uid 0 may open TCP connections to port 2049), and print "
	"each refused connect until SIGINT or SIGTERM, which detach and exit 0."
	"\v"
	"Examples:\n"
	"  nfsguard run                          # enforce machine-wide\n"
	"  nfsguard run --json | jq .            # events as JSON lines\n"
	"  nfsguard run --cgroup /system.slice   # one subtree only\n";

static error_t parse_run(int key, char *arg, struct argp_state *state)
{
	struct run_opts *o = state->input;

	switch (key) {
	case 'c':
		if (!*arg)
			argp_error(state, "--cgroup needs a path");
		o->cgroup = arg;
		return 0;
	case 'j':
		o->format = FORMAT_JSON;
		return 0;
	case 'v':
		log_verbose = true;
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp run_argp = {
	.options = options,
	.parser = parse_run,
	.doc = run_doc,
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

	if (size < sizeof(*e)) {
		s->malformed++;
		return 0;
	}
	format_event(stdout, s->format, e, e->ts_boot_ns + s->boot_to_wall_ns,
		     cgroup_path(&s->cg, e->cgroup_id));
	return 0;
}

/* Print what is pending; false once stdout is gone. */
static bool drain(struct ring_buffer *rb, struct run_state *s)
{
	int n;

	s->boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	n = ring_buffer__consume(rb);
	if (n < 0)
		log_err("reading events failed: %s", strerror(-n));
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

static void report_counters(const struct guard *g, const struct run_state *s)
{
	__u64 c[NFSG_CTR_MAX];

	if (guard_read_counters(g, c)) {
		log_err("cannot read counters: %s", strerror(errno));
		return;
	}
	log_info("detached; governed connects allowed %llu, refused %llu, events dropped %llu",
		(unsigned long long)c[NFSG_CTR_ALLOWED],
		(unsigned long long)c[NFSG_CTR_REFUSED],
		(unsigned long long)c[NFSG_CTR_EVENTS_DROPPED]);
	if (s->malformed)
		log_err("%llu event records had an unexpected size: agent and programs are from different builds",
			(unsigned long long)s->malformed);
}

static int enforce(struct run_state *s, const struct run_opts *o)
{
	struct guard_opts gopts = {
		.ringbuf_bytes = RINGBUF_BYTES,
		.wakeup_bytes = WAKEUP_BYTES,
	};
	struct guard g = {};
	struct ring_buffer *rb = NULL;
	struct policy *policy = NULL;
	char what[256];
	__u64 cgid;
	int cgfd = -1, err;

	err = open_target(s, o->cgroup, &cgfd, &cgid);
	if (err)
		goto out;
	err = probe_kernel();
	if (err)
		goto out;
	policy = malloc(sizeof(*policy));
	if (!policy) {
		err = -ENOMEM;
		log_err("out of memory");
		goto out;
	}
	policy_default(policy);

	err = guard_load(&g, &gopts);
	if (err)
		goto out;
	err = guard_apply_policy(&g, policy);
	if (err)
		goto out;
	rb = ring_buffer__new(guard_events_fd(&g), on_event, s, NULL);
	if (!rb) {
		err = -errno;
		log_err("cannot open the event ring buffer: %s", strerror(-err));
		goto out;
	}
	err = guard_attach(&g, cgfd);
	if (err)
		goto out;

	policy_describe(policy, what, sizeof(what));
	log_info("enforcing on cgroup %s (id %llu): %s; Ctrl-C detaches",
		cgroup_path(&s->cg, cgid), (unsigned long long)cgid, what);
	format_header(stdout, s->format);
	while (!stop) {
		err = ring_buffer__poll(rb, POLL_MS);
		if (err < 0 && err != -EINTR) {
			log_err("waiting for events failed: %s", strerror(-err));
			break;
		}
		err = 0;
		if (!drain(rb, s))
			break;
	}
	/* Detach first, then print what the programs said until then. */
	bpf_link__destroy(g.link4);
	bpf_link__destroy(g.link6);
	g.link4 = g.link6 = NULL;
	drain(rb, s);
	report_counters(&g, s);
out:
	ring_buffer__free(rb);
	guard_destroy(&g);
	free(policy);
	if (cgfd >= 0)
		close(cgfd);
	return err;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .format = FORMAT_TEXT };
	struct run_state *s;
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	if (argp_parse(&run_argp, argc, argv, 0, NULL, &o))
		return EXIT_USAGE;
	log_setup_libbpf();
	if (probe_privileges() || probe_btf())
		return EXIT_FAILURE;

	s = calloc(1, sizeof(*s));
	if (!s) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	s->format = o.format;
	err = cgroup2_open(&s->cg);
	if (err == -ENOENT) {
		log_err("no cgroup2 file system is mounted: mount one, e.g. mount -t cgroup2 none /sys/fs/cgroup/unified");
		goto out;
	} else if (err) {
		log_err("cannot open the cgroup2 mount: %s", strerror(-err));
		goto out;
	}

	/* No SA_RESTART: the signal must interrupt the poll. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = enforce(s, &o);
out:
	cgroup2_close(&s->cg);
	free(s);
	return err ? EXIT_FAILURE : EXIT_SUCCESS;
}
