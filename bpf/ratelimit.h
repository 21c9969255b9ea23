/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ratelimit.h - a rate limit per (cgroup, uid) in front of the events, so
 * a loop of refused connects cannot flood the agent. Counters are not
 * limited: they stay exact. What the limit holds back is counted, exactly,
 * and travels with the next event of the same key.
 *
 * The limit is GCRA, the token bucket as one timestamp: each event moves
 * the key's theoretical arrival time (tat) one interval on; an event that
 * would put it more than a burst ahead of now is held back. One cmpxchg,
 * no lock.
 *
 * Kernels before 5.12 have no BPF compare-and-exchange, and their verifier
 * refuses its instructions even in dead code: their build of the hooks
 * (NFSG_NO_ATOMICS) reads and writes tat and the held-back count with
 * plain loads and stores, so two CPUs admitting events
 * of one key at the same instant may both pass, or lose a held-back
 * count. The limit stays a limit; only its exactness under contention
 * differs.
 */
#ifndef NFSGUARD_BPF_RATELIMIT_H
#define NFSGUARD_BPF_RATELIMIT_H

/* Events per second per key, and the burst; rl_rate 0 turns it off. */
const volatile __u32 rl_rate = 0;
const volatile __u32 rl_burst = 1;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct nfsg_rl_key);
	__type(value, struct nfsg_rl_bucket);
} nfsg_ratelimit SEC(".maps");

/*
 * May an event for (cgid, uid) go out now? If so, *suppressed says how
 * many were held back before it; if not, this one is counted as held back.
 */
static __always_inline bool rl_admit(__u64 cgid, __u32 uid, __u32 *suppressed,
				     int how)
{
	struct nfsg_rl_key key = { .cgroup_id = cgid, .uid = uid };
	struct nfsg_rl_bucket fresh = {}, *b;
	__u64 now, interval, old, tat;
	int tries;

	*suppressed = 0;
	if (!rl_rate)
		return true;
	now = bpf_ktime_get_ns();
	interval = 1000000000ULL / rl_rate;
	b = bpf_map_lookup_elem(&nfsg_ratelimit, &key);
	if (!b) {
		fresh.tat = now + interval;
		bpf_map_update_elem(&nfsg_ratelimit, &key, &fresh, BPF_NOEXIST);
		return true;
	}
	if (how & NFSG_NO_ATOMICS) {
		tat = b->tat < now ? now : b->tat;
		if (tat - now > (__u64)(rl_burst - 1) * interval)
			goto hold;
		b->tat = tat + interval;
		*suppressed = b->suppressed;
		b->suppressed = 0;
		return true;
	}
	/* Another CPU may move tat meanwhile: retry a few times. */
	for (tries = 0; tries < 4; tries++) {
		old = *(volatile __u64 *)&b->tat;
		tat = old < now ? now : old;
		if (tat - now > (__u64)(rl_burst - 1) * interval)
			break;		/* a burst ahead already: hold back */
		if (__sync_val_compare_and_swap(&b->tat, old, tat + interval) ==
		    old) {
			*suppressed = __sync_lock_test_and_set(&b->suppressed, 0);
			return true;
		}
	}
hold:
	__sync_fetch_and_add(&b->suppressed, 1);
	return false;
}

#endif
