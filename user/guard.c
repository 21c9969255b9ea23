// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "map_read.h"
#include "log.h"
#include "guard_prog.h"

/* The ABI in include/guard.h: the kernel side writes exactly these. */
_Static_assert(sizeof(struct nfsg_event) == 96, "nfsg_event layout");
_Static_assert(sizeof(struct nfsg_trace_event) == 136, "nfsg_trace_event layout");
_Static_assert(sizeof(struct nfsg_egress_event) == 144, "nfsg_egress_event layout");
_Static_assert(sizeof(struct nfsg_policy) == 456, "nfsg_policy layout");
_Static_assert(sizeof(struct nfsg_portset) == 16384, "nfsg_portset layout");
_Static_assert(sizeof(struct nfsg_dest_key) == 24, "nfsg_dest_key layout");
_Static_assert(sizeof(struct nfsg_meta) == 72, "nfsg_meta layout");
_Static_assert(sizeof(struct nfsg_gen) == 8, "nfsg_gen layout");
_Static_assert(sizeof(struct nfsg_path_key) == NFSG_PATH_LEN, "nfsg_path_key layout");
_Static_assert(sizeof(struct nfsg_rl_key) == 16, "nfsg_rl_key layout");
_Static_assert(sizeof(struct nfsg_rl_bucket) == 16, "nfsg_rl_bucket layout");
_Static_assert(sizeof(struct nfsg_sock_record) == 96, "nfsg_sock_record layout");
_Static_assert(sizeof(struct nfsg_file_record) == 32, "nfsg_file_record layout");
_Static_assert(sizeof(struct nfsg_existing_event) == 160,
	       "nfsg_existing_event layout");
_Static_assert(sizeof(struct nfsg_cgroup_event) == 96 + NFSG_PATH_LEN,
	       "nfsg_cgroup_event layout");

static const char *const inner_names[GUARD_INNERS] = {
	[GUARD_INNER_CGROUPS] = "nfsg_cgroups_g",
	[GUARD_INNER_POLICIES] = "nfsg_policies_g",
	[GUARD_INNER_PATHS] = "nfsg_paths_g",
	[GUARD_INNER_DESTS] = "nfsg_dests_g",
};

static struct bpf_map *outer_of(const struct guard *g, enum guard_inner i)
{
	struct bpf_map *outer[GUARD_INNERS] = {
		[GUARD_INNER_CGROUPS] = g->skel->maps.nfsg_cgroups,
		[GUARD_INNER_POLICIES] = g->skel->maps.nfsg_policies,
		[GUARD_INNER_PATHS] = g->skel->maps.nfsg_paths,
		[GUARD_INNER_DESTS] = g->skel->maps.nfsg_dests,
	};

	return outer[i];
}

/* libbpf frees the inner templates at load: keep what we need of them. */
static int save_inner_defs(struct guard *g)
{
	const struct bpf_map *t;
	int i;

	for (i = 0; i < GUARD_INNERS; i++) {
		t = bpf_map__inner_map(outer_of(g, i));
		if (!t)
			return -ENOENT;
		g->inner[i] = (struct guard_inner_def){
			.type = bpf_map__type(t),
			.key_size = bpf_map__key_size(t),
			.value_size = bpf_map__value_size(t),
			.flags = bpf_map__map_flags(t),
			.max_entries = bpf_map__max_entries(t),
		};
	}
	return 0;
}

int guard_inner_create(const struct guard *g, enum guard_inner i,
		       __u32 max_entries)
{
	const struct guard_inner_def *d = &g->inner[i];
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = d->flags);
	int fd;

	if (!max_entries)
		max_entries = d->max_entries;
	fd = bpf_map_create(d->type, inner_names[i], d->key_size,
			    d->value_size, max_entries, &opts);
	if (fd < 0) {
		fd = -errno;
		log_err("cannot create map %s with %u entries: %s",
			inner_names[i], max_entries, strerror(-fd));
	}
	return fd;
}

int guard_inner_install(const struct guard *g, enum guard_inner i, __u32 gen,
			int fd)
{
	if (bpf_map_update_elem(bpf_map__fd(outer_of(g, i)), &gen, &fd,
				BPF_ANY)) {
		log_err("cannot install map %s for generation %u: %s",
			inner_names[i], gen, strerror(errno));
		return -errno;
	}
	return 0;
}

const char *guard_inner_name(enum guard_inner i)
{
	return inner_names[i];
}

__u32 guard_get_gen(struct guard *g)
{
	g->word = __atomic_load_n(g->gen_map, __ATOMIC_ACQUIRE);
	return g->word & (NFSG_GENERATIONS - 1);
}

void guard_set_gen(struct guard *g, __u32 gen)
{
	__u64 w = g->word + 1;

	while ((w & (NFSG_GENERATIONS - 1)) != gen)
		w++;
	/* One aligned 8-byte store, where a map update's copy could be
	 * seen half made; release: the maps written before it are seen
	 * with it. */
	__atomic_store_n(g->gen_map, w, __ATOMIC_RELEASE);
	g->word = w;
}

/* Hook i's program of a build (see "Builds" in bpf/guard.bpf.c). */
static struct bpf_program *hook_progs(const struct guard *g, int i,
				      enum hook_build b)
{
	struct bpf_program *progs[HOOK_BUILDS][GUARD_HOOKS] = {
		[HOOKS_DIRECT] = {
			[GUARD_CONNECT4] = g->skel->progs.nfsg_connect4,
			[GUARD_CONNECT6] = g->skel->progs.nfsg_connect6,
			[GUARD_SENDMSG4] = g->skel->progs.nfsg_sendmsg4,
			[GUARD_SENDMSG6] = g->skel->progs.nfsg_sendmsg6,
			[GUARD_EGRESS] = g->skel->progs.nfsg_egress,
		},
		[HOOKS_PROBED] = {
			[GUARD_CONNECT4] = g->skel->progs.nfsg_connect4_p,
			[GUARD_CONNECT6] = g->skel->progs.nfsg_connect6_p,
			[GUARD_SENDMSG4] = g->skel->progs.nfsg_sendmsg4_p,
			[GUARD_SENDMSG6] = g->skel->progs.nfsg_sendmsg6_p,
			[GUARD_EGRESS] = g->skel->progs.nfsg_egress,
		},
		[HOOKS_LEGACY] = {
			[GUARD_CONNECT4] = g->skel->progs.nfsg_connect4_l,
			[GUARD_CONNECT6] = g->skel->progs.nfsg_connect6_l,
			[GUARD_SENDMSG4] = g->skel->progs.nfsg_sendmsg4_l,
			[GUARD_SENDMSG6] = g->skel->progs.nfsg_sendmsg6_l,
			[GUARD_EGRESS] = g->skel->progs.nfsg_egress_l,
		},
	};

	return progs[b][i];
}

/* The tracing programs, in the order of g->trace. */
static struct bpf_program **trace_progs(struct guard *g, int i)
{
	struct bpf_program **p[GUARD_TRACE_PROGS] = {
		&g->skel->progs.nfsg_tr_state, &g->skel->progs.nfsg_tr_reset,
		&g->skel->progs.nfsg_tr_error, &g->skel->progs.nfsg_tr_destroy,
		&g->skel->progs.nfsg_tr_connect,
	};

	return p[i];
}

static void set_filters(struct guard *g, const struct guard_opts *o)
{
	const struct trace_filters *f = o->filters;
	struct nfsg_guard__rodata *ro = g->skel->rodata;
	__u32 on = 0;

	if (!f)
		return;
	if (f->uid_on) {
		on |= NFSG_FILTER_UID;
		ro->filter_uid = f->uid;
	}
	if (f->pid_on) {
		on |= NFSG_FILTER_PID;
		ro->filter_pid = f->pid;
	}
	if (f->comm[0]) {
		on |= NFSG_FILTER_COMM;
		memcpy((char *)ro->filter_comm, f->comm, sizeof(ro->filter_comm));
	}
	if (f->cgroup) {
		on |= NFSG_FILTER_CGROUP;
		ro->filter_cgroup_id = o->filter_cgroup_id;
		ro->filter_cgroup_level = o->filter_cgroup_level;
	}
	if (f->port_on) {
		on |= NFSG_FILTER_PORT;
		ro->filter_port = f->port;
	}
	if (f->daddr_on) {
		on |= NFSG_FILTER_DADDR;
		memcpy((void *)ro->filter_daddr, f->daddr.addr,
		       sizeof(f->daddr.addr));
		ro->filter_prefixlen = f->daddr.prefixlen;
	}
	ro->filter_on = on;
}

int guard_open(struct guard *g, const struct guard_opts *o)
{
	enum hook_build b;
	int err, i;

	memset(g, 0, sizeof(*g));
	g->skel = nfsg_guard__open();
	if (!g->skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	g->skel->rodata->wakeup_bytes = o->wakeup_bytes;
	g->skel->rodata->rl_rate = o->rl_rate;
	g->skel->rodata->rl_burst = o->rl_burst ? o->rl_burst : 1;
	g->skel->rodata->trace_enabled = o->trace;
	g->skel->rodata->trace_call_errors = o->trace ? o->plan->trace_calls
						      : NFSG_CALL_ERRORS_NONE;
	g->skel->rodata->skb_pid = o->plan->skb_pid;
	g->skel->rodata->skb_comm = o->plan->skb_comm;
	/* The cgroup cache's map type is one older kernels refuse. */
	g->skel->rodata->cg_cache = o->plan->cg_cache;
	bpf_map__set_autocreate(g->skel->maps.nfsg_cg_cache, o->plan->cg_cache);
	set_filters(g, o);
	/* One build of the hooks: the one this kernel's verifier takes. */
	g->build = o->plan->hooks;
	for (b = 0; b < HOOK_BUILDS; b++)
		for (i = 0; i < GUARD_HOOKS; i++)
			bpf_program__set_autoload(hook_progs(g, i, b), false);
	for (i = 0; i < GUARD_HOOKS; i++)
		bpf_program__set_autoload(hook_progs(g, i, g->build), true);
	/* Tracing programs load only when asked for: they may not load. */
	for (i = 0; i < GUARD_TRACE_PROGS; i++)
		bpf_program__set_autoload(*trace_progs(g, i), o->trace);
	if (o->trace && !o->plan->trace_errors)
		bpf_program__set_autoload(g->skel->progs.nfsg_tr_error, false);
	if (o->trace && o->plan->trace_calls != NFSG_CALL_ERRORS_FEXIT)
		bpf_program__set_autoload(g->skel->progs.nfsg_tr_connect, false);
	/* The socket iterators: the builds that abort where the kernel has
	 * bpf_sock_destroy, else the ones that list, else none. */
	if (o->plan->sockets == SOCKETS_ITER) {
		bool d = o->plan->destroy == DESTROY_BPF;

		g->iter_prog[GUARD_ITER_TCP] = d ? g->skel->progs.nfsg_iter_tcp_d
						 : g->skel->progs.nfsg_iter_tcp;
		g->iter_prog[GUARD_ITER_UDP] = d ? g->skel->progs.nfsg_iter_udp_d
						 : g->skel->progs.nfsg_iter_udp;
	}
	if (o->plan->holders == HOLDERS_ITER)
		g->iter_prog[GUARD_ITER_FILES] = g->skel->progs.nfsg_iter_files;
	bpf_program__set_autoload(g->skel->progs.nfsg_iter_files,
				  g->iter_prog[GUARD_ITER_FILES] != NULL);
	g->skel->rodata->iter_cookie = o->plan->sockets_cookie;
	bpf_program__set_autoload(g->skel->progs.nfsg_iter_tcp,
				  g->iter_prog[GUARD_ITER_TCP] == g->skel->progs.nfsg_iter_tcp);
	bpf_program__set_autoload(g->skel->progs.nfsg_iter_tcp_d,
				  g->iter_prog[GUARD_ITER_TCP] == g->skel->progs.nfsg_iter_tcp_d);
	bpf_program__set_autoload(g->skel->progs.nfsg_iter_udp,
				  g->iter_prog[GUARD_ITER_UDP] == g->skel->progs.nfsg_iter_udp);
	bpf_program__set_autoload(g->skel->progs.nfsg_iter_udp_d,
				  g->iter_prog[GUARD_ITER_UDP] == g->skel->progs.nfsg_iter_udp_d);
	err = bpf_map__set_max_entries(g->skel->maps.nfsg_events,
				       o->ringbuf_bytes);
	if (err) {
		log_err("cannot size the event ring buffer to %u bytes: %s",
			o->ringbuf_bytes, strerror(-err));
		goto fail;
	}
	err = save_inner_defs(g);
	if (err) {
		log_err("the BPF object lacks its inner map templates: rebuild nfsguard");
		goto fail;
	}
	return 0;
fail:
	guard_destroy(g);
	return err;
}

int guard_load(struct guard *g)
{
	char prog[64], why[512];
	int err;

	log_libbpf_forget();
	err = nfsg_guard__load(g->skel);
	if (!err) {
		g->gen_map = mmap(NULL, sysconf(_SC_PAGESIZE),
				  PROT_READ | PROT_WRITE, MAP_SHARED,
				  bpf_map__fd(g->skel->maps.nfsg_gen), 0);
		if (g->gen_map != MAP_FAILED)
			return 0;
		err = -errno;
		g->gen_map = NULL;
		log_err("cannot map nfsg_gen: %s", strerror(-err));
		return err;
	}
	if (log_verifier_tail(prog, sizeof(prog), why, sizeof(why)))
		log_err("kernel refused to load program %s: %s; the verifier's last lines: %s; rerun with -v for the whole log",
			prog, strerror(-err), why);
	else
		log_err("kernel refused to load the programs: %s: rerun with -v to see libbpf's messages",
			strerror(-err));
	return err;
}

int guard_attach_trace(struct guard *g)
{
	int i, err;

	for (i = 0; i < GUARD_TRACE_PROGS; i++) {
		if (!bpf_program__autoload(*trace_progs(g, i)))
			continue;
		g->trace[i] = bpf_program__attach_trace(*trace_progs(g, i));
		if (!g->trace[i]) {
			err = -errno;
			log_err("cannot attach %s: %s", bpf_program__name(*trace_progs(g, i)),
				strerror(-err));
			return err;
		}
	}
	return 0;
}

int guard_iter_open(struct guard *g, enum guard_iter which)
{
	struct bpf_program *prog = g->iter_prog[which];
	int fd, err;

	if (!prog)
		return -EOPNOTSUPP;
	if (!g->iter[which]) {
		g->iter[which] = bpf_program__attach_iter(prog, NULL);
		if (!g->iter[which]) {
			err = -errno;
			log_err("cannot attach the socket iterator %s: %s",
				bpf_program__name(prog), strerror(-err));
			return err;
		}
	}
	fd = bpf_iter_create(bpf_link__fd(g->iter[which]));
	if (fd < 0) {
		err = -errno;
		log_err("cannot open a walk of the socket iterator: %s",
			strerror(-err));
		return err;
	}
	return fd;
}

int guard_watch_cgroups(struct guard *g)
{
	int err;

	g->mkdir = bpf_program__attach_trace(g->skel->progs.nfsg_cg_mkdir);
	if (!g->mkdir) {
		err = -errno;
		goto fail;
	}
	g->rmdir = bpf_program__attach_trace(g->skel->progs.nfsg_cg_rmdir);
	if (!g->rmdir) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	log_err("cannot follow cgroups (tp_btf/cgroup_%s): %s: a kernel with BTF tracepoints (5.5 or later) is needed",
		g->mkdir ? "rmdir" : "mkdir", strerror(-err));
	bpf_link__destroy(g->mkdir);
	g->mkdir = NULL;
	return err;
}

struct bpf_program *guard_hook_prog(const struct guard *g, enum guard_hook i)
{
	return hook_progs(g, i, g->build);
}

static const char *const hook_names[GUARD_HOOKS] = {
	[GUARD_CONNECT4] = "connect4",
	[GUARD_CONNECT6] = "connect6",
	[GUARD_SENDMSG4] = "sendmsg4",
	[GUARD_SENDMSG6] = "sendmsg6",
	[GUARD_EGRESS] = "egress",
};

const char *guard_hook_name(enum guard_hook i)
{
	return hook_names[i];
}

int guard_hook_of(const char *prog_name)
{
	size_t n;
	int i;

	if (strncmp(prog_name, "nfsg_", 5))
		return -1;
	prog_name += 5;
	for (i = 0; i < GUARD_HOOKS; i++) {
		n = strlen(hook_names[i]);
		if (!strncmp(prog_name, hook_names[i], n) &&
		    (!prog_name[n] || !strcmp(prog_name + n, "_p") ||
		     !strcmp(prog_name + n, "_l")))
			return i;
	}
	return -1;
}

int guard_attach(struct guard *g, int cgroup_fd)
{
	int i, err = 0;

	for (i = 0; i < GUARD_HOOKS && !err; i++) {
		g->hooks[i] = bpf_program__attach_cgroup(guard_hook_prog(g, i),
							 cgroup_fd);
		if (!g->hooks[i]) {
			err = -errno;
			log_err("cannot attach %s to the cgroup: %s: a kernel with bpf_link support for cgroups (5.7 or later) is needed",
				bpf_program__section_name(guard_hook_prog(g, i)),
				strerror(-err));
		}
	}
	if (err)
		guard_detach(g);
	return err;
}

/*
 * The kernel waits for the programs under way, a synchronize_rcu(), at
 * each update of a map of maps from user space, so that "all
 * non-sleepable programs that could be running use the new map value"
 * when it returns (kernel/bpf/syscall.c, maybe_wait_bpf_programs; Linux
 * 4.20 and later). One throwaway update makes that wait; the grace period
 * covers every program, whichever map it uses.
 */
int guard_wait_programs(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int inner, outer, err = 0;
	__u32 zero = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfsg_sync_in", sizeof(__u32),
			       sizeof(__u32), 1, NULL);
	if (inner < 0)
		return -errno;
	opts.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "nfsg_sync",
			       sizeof(__u32), sizeof(__u32), 1, &opts);
	if (outer < 0)
		err = -errno;
	else if (bpf_map_update_elem(outer, &zero, &inner, BPF_ANY))
		err = -errno;
	if (outer >= 0)
		close(outer);
	close(inner);
	return err;
}

void guard_detach(struct guard *g)
{
	int i;

	for (i = GUARD_HOOKS - 1; i >= 0; i--) {
		bpf_link__destroy(g->hooks[i]);
		g->hooks[i] = NULL;
	}
}

int guard_read_meta(const struct guard *g, struct nfsg_meta *meta)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(g->skel->maps.nfsg_meta), &zero,
				meta))
		return -errno;
	return 0;
}

int guard_write_meta(const struct guard *g, const struct nfsg_meta *meta)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.nfsg_meta), &zero,
				meta, BPF_ANY))
		return -errno;
	return 0;
}

int guard_read_counters(const struct guard *g, __u64 *out)
{
	return counters_total(bpf_map__fd(g->skel->maps.nfsg_counters),
			      bpf_map__fd(g->skel->maps.nfsg_meta), out);
}

int guard_events_fd(const struct guard *g)
{
	return bpf_map__fd(g->skel->maps.nfsg_events);
}

void guard_destroy(struct guard *g)
{
	int i;

	guard_detach(g);
	for (i = 0; i < GUARD_TRACE_PROGS; i++)
		bpf_link__destroy(g->trace[i]);
	for (i = 0; i < GUARD_ITERS; i++)
		bpf_link__destroy(g->iter[i]);
	bpf_link__destroy(g->rmdir);
	bpf_link__destroy(g->mkdir);
	if (g->gen_map)
		munmap(g->gen_map, sysconf(_SC_PAGESIZE));
	nfsg_guard__destroy(g->skel);
	memset(g, 0, sizeof(*g));
}
