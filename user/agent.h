/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The agent: one object that owns the programs, the pins, the policy
 * generations and the counters, and hands every event to its sinks.
 *
 *   agent_start()  probe, decide the start-up plan once (fresh, adopt or
 *                  rebuild), and carry it out in a straight line
 *   agent_loop()   wait for events, clients and signals until stopped
 *   agent_reload() re-read the configuration into the idle generation
 *                  and switch to it with one write
 *   agent_stop()   detach (foreground) or leave the pins (service)
 *
 * 'nfsguard run' and 'nfsguard trace' only parse options into struct
 * agent_opts. The control socket (control.h) and the metrics endpoint
 * (metrics.h) are clients of this object, served from its loop.
 */
#ifndef NFSGUARD_AGENT_H
#define NFSGUARD_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include "cgroup.h"
#include "control.h"
#include "filter.h"
#include "format.h"
#include "guard_prog.h"
#include "persist.h"
#include "policy.h"
#include "config.h"
#include "probe.h"
#include "trace.h"

/* How agent_start found the pinned state, decided once. */
enum agent_plan {
	AGENT_FRESH,		/* nothing pinned (or foreground): new maps */
	AGENT_ADOPT,		/* pinned maps of our layout: reuse them */
	AGENT_REBUILD,		/* pinned maps of another layout: new maps,
				 * the old totals carried over */
};

struct agent_opts {
	const char *cgroup;	/* where to attach (NULL: the cgroup2 root) */
	const char *config;	/* NULL: CONFIG_DEFAULT_PATH if it exists */
	const char *efs_conf;	/* efs-utils.conf (NULL: EFS_UTILS_CONF) */
	const char *pin_dir;
	const char *control;	/* the control socket's path */
	const char *control_group; /* may also connect (mode 0660), or NULL */
	const char *metrics;	/* "ADDRESS:PORT" of /metrics, or NULL */
	bool persist;
	bool trace;		/* follow allowed connects to their outcome */
	__u32 interval;		/* seconds between summaries; 0: events */
	__u32 rl_rate, rl_burst;
	struct event_filter filters; /* what the stdout sink shows */
	enum format_kind format;
};

/* What a sink is handed for each event, resolved once for all sinks. */
struct agent_event {
	const struct nfsg_event *e;
	size_t size;
	struct format_names n;
	const char *line[2];	/* formatted on demand, by format_kind */
	size_t len[2];
};

/*
 * A consumer of events. event() gets every record; dropped() the count of
 * records the ring buffer lost since the last call. Neither may block.
 */
struct agent_sink {
	void (*event)(void *ctx, struct agent_event *ev);
	void (*dropped)(void *ctx, __u64 count, __u64 wall_ns);
	void *ctx;
	struct agent_sink *next;
};

struct control;
struct metrics;

/* Counters the agent keeps of itself. */
struct agent_stats {
	__u64 reloads_ok, reloads_failed;
	__u64 last_reload_ns;	/* CLOCK_REALTIME of the last one, or 0 */
	bool last_reload_ok;
	__u64 events;		/* records read from the ring buffer */
	__u64 malformed;	/* records of an unexpected size */
	__u64 suppressed;	/* as the kernel reported them */
	__u64 dropped;		/* as last read from the counters */
	/* Existing connections, at start, reload and upgrade (sockets.h). */
	__u64 existing_scans;
	__u64 existing_violating;	/* reported as events of kind existing */
	__u64 existing_destroyed;
	__u64 existing_failed;	/* abort asked, and it failed */
	/* Cgroups the mkdir watcher could not name (no memory for the map
	 * element), named by the agent at their event. */
	__u64 cgroups_named_by_agent;
};

/*
 * A walk of existing connections someone waits for: done gets the ended
 * walk on the loop, and must take its rows with sockets_finish().
 */
struct sockets_job;
struct nfsg_agent;
typedef void (*agent_walk_fn)(struct nfsg_agent *a, void *ctx,
			      struct sockets_job *job);
struct agent_walk {
	enum nfsg_iter_destroy mode;
	agent_walk_fn done;
	void *ctx;
};
/* A check at start or reload, and one for each control client. */
#define AGENT_WALKS (CTL_MAX_CLIENTS + 2)

struct nfsg_agent {
	const struct agent_opts *o;
	struct cgroup2 cg;
	struct guard g;
	struct persist pin;	/* with --persist */
	struct kplan plan;	/* what this kernel supports, and so uses */
	enum agent_plan start;	/* how the pinned state was found */
	struct policy_set sets[NFSG_GENERATIONS]; /* by generation */
	__u32 gen;		/* the active one */
	int cgroup_fd;
	__u64 cgroup_id;	/* the attach point */
	bool attach_gone;	/* ... was removed: nothing is enforced */
	int pol_base_fd;	/* per-policy counters by name (counters.h) */
	struct ring_buffer *rb;
	struct agent_sink *sinks;
	struct agent_sink out;	/* stdout */
	bool out_broken;	/* stdout went away (EPIPE) */
	struct trace_summary summary;	/* with --interval */
	__u64 next_summary_ns;
	__u64 next_counters_ns;	/* drain() reads the counters from then */
	__u64 next_flush_ns;	/* ... and flushes stdout from then */
	__u64 boot_to_wall_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	__u64 started_ns;	/* CLOCK_MONOTONIC at start */
	struct agent_stats stats;
	const char *existing_pending;	/* the check of existing connections
					 * the loop runs first ("start") */
	/* Walks of existing connections: one at a time, off the loop
	 * (sockets.h); walks[0] runs while job is set, the rest wait. */
	struct agent_walk walks[AGENT_WALKS];
	size_t n_walks;
	struct sockets_job *job;
	pthread_mutex_t walk_lock;	/* held by a running walk */
	struct control *ctl;
	struct metrics *metrics;
	/* The configuration's [agent] section as read at start, and what
	 * is in force: the option, else the file's value, else NULL. A
	 * reload that changes the file's values says they take a restart. */
	struct config_agent file;
	const char *metrics_addr;
	const char *control_group;
	bool quit;		/* uninstalled: the loop ends */
	int epoll_fd;
};

/* Clocks in ns. */
__u64 agent_clock_ns(clockid_t clk);

/* Everything up to READY=1. Returns 0 or -errno after saying why. */
int agent_start(struct nfsg_agent *a, const struct agent_opts *o);
/*
 * 'nfsguard uninstall' through the control socket: remove the pins in
 * pin_dir, which must be this service agent's (a line on out for each),
 * detach the hooks, and end the loop. Returns what persist_remove does
 * (-ENOTEMPTY: someone else's entries kept, ours gone, the agent stops),
 * or -ESRCH for another pin directory.
 */
int agent_uninstall(struct nfsg_agent *a, const char *pin_dir, FILE *out);
/* Serve until stop is set (or stdout breaks in the foreground). */
int agent_loop(struct nfsg_agent *a, volatile int *stop, volatile int *reload);
/*
 * Re-read the configuration; on success switch to it. Every problem goes
 * into errs (config.h) when it is given, and to the log. Returns 0 or
 * -errno; the running policy stays on failure.
 */
struct config_errors;
int agent_reload(struct nfsg_agent *a, struct config_errors *errs);
/* Detach (foreground) or leave it pinned, print the last events. */
void agent_stop(struct nfsg_agent *a);
/* Release everything; accepts an agent partly started, or zeroed. */
void agent_destroy(struct nfsg_agent *a);

void agent_add_sink(struct nfsg_agent *a, struct agent_sink *s);
void agent_remove_sink(struct nfsg_agent *a, struct agent_sink *s);
/* ev's line in format k, formatted once for every sink that wants it;
 * NULL when it could not be (out of memory). */
const char *agent_event_line(struct agent_event *ev, enum format_kind k,
			     size_t *len);
/*
 * Check the connections that exist now against the policy in force, in a
 * walk off the loop (agent_walk): when it ends, each violating one
 * becomes an event of kind existing for every sink, aborted where its
 * policy says existing = destroy, and one line names the moment (when:
 * "start", "reload") with the totals. Returns 0, or -errno when the walk
 * cannot even be asked for.
 */
int agent_check_existing(struct nfsg_agent *a, const char *when);
/*
 * Ask for a walk (mode): started now, or after those asked before; done
 * is called on the loop when it ends. 0, or -EBUSY when too many wait.
 */
int agent_walk(struct nfsg_agent *a, enum nfsg_iter_destroy mode,
	       agent_walk_fn done, void *ctx);
/* Whoever asked with ctx is gone: its walk still runs, and its events
 * still go to every sink, but done is not called for it. */
void agent_walk_forget(struct nfsg_agent *a, void *ctx);
/* One socket a scan found: an event for every sink and counted, unless
 * it was only listed (sockets.h). */
struct sockets_entry;
void agent_existing_event(struct nfsg_agent *a, const struct sockets_entry *se);
/* The totals (NFSG_CTR_*). */
int agent_counters(const struct nfsg_agent *a, __u64 *c);
/* The policy set of the active generation. */
const struct policy_set *agent_policy(const struct nfsg_agent *a);

#endif
