/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* events.h - counters and ring-buffer records, never a wakeup per event. */
#ifndef NFSGUARD_BPF_EVENTS_H
#define NFSGUARD_BPF_EVENTS_H

/*
 * Wake the event consumer only when the data pending in the ring buffer
 * crosses this many bytes, or a multiple of it; below it the agent finds
 * the events on its next timed poll (at most 100 ms later). This keeps the
 * cost of a wakeup off the refusal path, even in a flood. 0 wakes on every
 * event.
 */
const volatile __u64 wakeup_bytes = 0;

/* What one record takes in the ring buffer: its 8-byte header and body. */
#define EVENT_RINGBUF_BYTES (8 + ((sizeof(struct nfsg_event) + 7) & ~7))

/*
 * A crossing is seen by the submitter whose query finds the pending data
 * less than this past it. Producers on other CPUs submit between one's
 * submit and its query, so a window of one record misses crossings in a
 * flood from two CPUs, and the agent, left to its timed poll, let the
 * ring buffer overflow: four records' room, and every multiple of
 * wakeup_bytes another chance, as many as the buffer has before it fills.
 */
#define WAKEUP_WINDOW (4 * EVENT_RINGBUF_BYTES)

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&nfsg_counters, &slot);

	/* Atomic even per CPU: a preempting task may bump the same slot. */
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline void count_policy(__u32 gen, __u32 idx, __u32 fam,
					 __u32 slot)
{
	__u32 key = NFSG_PCTR_SLOT(gen, idx, fam, slot);
	__u64 *c;

	if (idx >= NFSG_MAX_POLICIES || fam >= NFSG_FAM_MAX)
		return;
	c = bpf_map_lookup_elem(&nfsg_pol_ctrs, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
}

/*
 * May cgroup_skb programs ask for the current task's pid, and its comm?
 * Linux 6.1 allows neither, 6.12 the pid only (the agent probes each);
 * without them, their events carry pid 0 and no comm.
 */
const volatile bool skb_pid = true;
const volatile bool skb_comm = true;

/* Which facts of the calling task event_fill() records. */
#define TASK_PID 0x1
#define TASK_COMM 0x2
#define TASK_ALL (TASK_PID | TASK_COMM)

/* The fields every event has; of the calling task, those in task. */
static __always_inline void event_fill(struct nfsg_event *e, __u8 kind,
				       __u64 cgid, __u32 gen, __u32 idx,
				       int task)
{
	__u64 id;

	__builtin_memset(e, 0, sizeof(*e));
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = cgid;
	e->policy = idx;
	e->gen = gen;
	e->kind = kind;
	if (task & TASK_PID) {
		id = bpf_get_current_pid_tgid();
		e->pid = id >> 32;
		e->tid = (__u32)id;
	}
	if (task & TASK_COMM)
		bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/*
 * A record of size bytes (an nfsg_event first) with the common fields
 * filled, or NULL (and counted).
 */
static __always_inline struct nfsg_event *event_start(__u64 size, __u8 kind,
						      __u64 cgid, __u32 gen,
						      __u32 idx, int task)
{
	struct nfsg_event *e;

	e = bpf_ringbuf_reserve(&nfsg_events, size, 0);
	if (!e) {
		count(NFSG_CTR_EVENTS_DROPPED);
		return NULL;
	}
	event_fill(e, kind, cgid, gen, idx, task);
	return e;
}

static __always_inline void event_submit(void *e)
{
	__u64 flags = 0;

	if (wakeup_bytes) {
		/* Pending data, this record included: wake on a crossing. */
		__u64 avail = bpf_ringbuf_query(&nfsg_events, BPF_RB_AVAIL_DATA);

		flags = avail >= wakeup_bytes &&
				avail % wakeup_bytes < WAKEUP_WINDOW ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
}

/* A cgroup event; rare, so it may wake the agent. */
static __always_inline void cgroup_event(__u8 kind, __u64 cgid, __u32 gen,
					 __u32 idx, const char *path)
{
	struct nfsg_cgroup_event *ce;

	ce = (void *)event_start(sizeof(*ce), kind, cgid, gen, idx, TASK_ALL);
	if (!ce)
		return;
	if (bpf_probe_read_kernel_str(ce->path, sizeof(ce->path), path) < 0)
		ce->path[0] = '\0';
	bpf_ringbuf_submit(ce, 0);
}

#endif
