// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "counters.h"
#include "map_read.h"
#include "log.h"
#include "persist.h"
#include "policy_maps.h"

struct base_key {
	char name[NFSG_NAME_LEN];
};

/* nfsg_pol_ctrs before ABI 3: slot (gen * NFSG_MAX_POLICIES + policy) *
 * NFSG_PCTR_MAX + counter, no family; nfsg_pol_base's value was one
 * count a verdict. */
#define LEGACY_SLOTS (NFSG_GENERATIONS * NFSG_MAX_POLICIES * NFSG_PCTR_MAX)
#define LEGACY_SLOT(gen, policy, counter) \
	(((gen) * NFSG_MAX_POLICIES + (policy)) * NFSG_PCTR_MAX + (counter))

enum layout { LAYOUT_NONE, LAYOUT_FAMILY, LAYOUT_LEGACY };

/* What a rebuild reads of the old maps before they are replaced. */
static struct {
	int pol_ctrs;
	enum layout layout;
	struct policy_set sets[NFSG_GENERATIONS];
} old = { .pol_ctrs = -1 };

const char *counters_family_name(int fam)
{
	static const char *const names[COUNTERS_FAMILIES] = {
		[NFSG_FAM_IPV4] = "inet",
		[NFSG_FAM_IPV6] = "inet6",
		[COUNTERS_FAM_UNKNOWN] = "unknown",
	};

	return fam >= 0 && fam < COUNTERS_FAMILIES ? names[fam] : "?";
}

__u64 counters_total_of(const struct policy_counts *pc, int c)
{
	__u64 sum = 0;
	int f;

	for (f = 0; f < COUNTERS_FAMILIES; f++)
		sum += pc->v[f][c];
	return sum;
}

bool counters_family_shown(const struct policy_counts *pc, int fam)
{
	int c;

	if (fam != COUNTERS_FAM_UNKNOWN)
		return true;
	for (c = 0; c < NFSG_PCTR_MAX; c++)
		if (pc->v[fam][c])
			return true;
	return false;
}

/* Which layout of nfsg_pol_ctrs fd has, if one we know. */
static enum layout layout_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != 4 ||
	    info.value_size != sizeof(__u64))
		return LAYOUT_NONE;
	if (info.max_entries == NFSG_PCTR_SLOTS)
		return LAYOUT_FAMILY;
	if (info.max_entries == LEGACY_SLOTS)
		return LAYOUT_LEGACY;
	return LAYOUT_NONE;
}

/* Add what policy idx of generation gen counted to out. */
static int add_slots(int fd, enum layout layout, __u32 gen, __u32 idx,
		     struct policy_counts *out)
{
	__u64 v;
	int f, c, err = 0;

	for (c = 0; c < NFSG_PCTR_MAX && !err; c++) {
		if (layout == LAYOUT_LEGACY) {
			err = map_percpu_sum(fd, LEGACY_SLOT(gen, idx, c), &v);
			out->v[COUNTERS_FAM_UNKNOWN][c] += err ? 0 : v;
			continue;
		}
		for (f = 0; f < NFSG_FAM_MAX && !err; f++) {
			err = map_percpu_sum(fd, NFSG_PCTR_SLOT(gen, idx, f, c),
					     &v);
			out->v[f][c] += err ? 0 : v;
		}
	}
	return err;
}

static void key_of(const char *name, struct base_key *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
}

/* An old per-policy counter map we can read: a layout we know. */
static int open_old_pol_ctrs(struct persist *p)
{
	char path[PATH_MAX];
	int fd;

	pin_dir_path(&p->pins, "nfsg_pol_ctrs", path, sizeof(path));
	fd = bpf_obj_get(path);
	old.layout = layout_of(fd);
	if (fd >= 0 && old.layout == LAYOUT_NONE) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A base of the layout before ABI 3 joins the new one, as unknown. */
static int carry_legacy_base(int legacy_fd, int base_fd)
{
	struct base_key k, next;
	struct policy_counts pc;
	__u64 v[NFSG_PCTR_MAX];
	void *prev = NULL;
	int err = 0;

	while (!err && !bpf_map_get_next_key(legacy_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(legacy_fd, &k, v))
			continue;	/* deleted meanwhile: nobody writes it */
		memset(&pc, 0, sizeof(pc));
		memcpy(pc.v[COUNTERS_FAM_UNKNOWN], v, sizeof(v));
		if (bpf_map_update_elem(base_fd, &k, &pc, BPF_ANY))
			err = -errno;
	}
	if (err)
		log_err("cannot carry the per-policy counters of the older version: %s",
			strerror(-err));
	return err;
}

int counters_open(int *base_fd, struct persist *p, int plan)
{
	char path[PATH_MAX];
	int fd = -1, legacy = -1, err = 0, g;

	*base_fd = -1;
	if (p) {
		pin_dir_path(&p->pins, COUNTERS_BASE_NAME, path, sizeof(path));
		fd = plan == AGENT_FRESH ? -1 : bpf_obj_get(path);
		if (fd >= 0 && !map_sizes_are(fd, sizeof(struct base_key),
					      sizeof(struct policy_counts))) {
			if (map_sizes_are(fd, sizeof(struct base_key),
					  NFSG_PCTR_MAX * sizeof(__u64)))
				legacy = fd;
			else {
				log_warn("the pinned %s has an unknown layout: it is replaced, and the per-policy totals start from zero",
					 COUNTERS_BASE_NAME);
				close(fd);
			}
			fd = -1;
		}
	}
	if (p && plan == AGENT_REBUILD) {
		old.pol_ctrs = open_old_pol_ctrs(p);
		for (g = 0; g < NFSG_GENERATIONS && old.pol_ctrs >= 0; g++)
			policy_maps_read_pinned(p->pins.at, g, &old.sets[g]);
	}
	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_HASH, COUNTERS_BASE_NAME,
				    sizeof(struct base_key),
				    sizeof(struct policy_counts),
				    COUNTERS_BASE_MAX, NULL);
		if (fd < 0) {
			err = -errno;
			log_err("cannot create map %s: %s", COUNTERS_BASE_NAME,
				strerror(-err));
			goto out;
		}
		if (legacy >= 0)
			err = carry_legacy_base(legacy, fd);
		if (!err && p) {
			/* A pin of another layout: checked as ours at open. */
			if (unlinkat(p->pins.fd, COUNTERS_BASE_NAME, 0) &&
			    errno != ENOENT)
				err = -errno;
			if (!err && bpf_obj_pin(fd, path))
				err = -errno;
			if (err)
				log_err("cannot pin %s in %s: %s",
					COUNTERS_BASE_NAME, p->dir, strerror(-err));
		}
		if (err) {
			close(fd);
			goto out;
		}
	}
	*base_fd = fd;
out:
	if (legacy >= 0)
		close(legacy);
	return err;
}

static int add_base(int base_fd, const char *name,
		    const struct policy_counts *add)
{
	struct policy_counts pc = {};
	struct base_key k;
	int f, c;

	key_of(name, &k);
	if (bpf_map_lookup_elem(base_fd, &k, &pc) && errno != ENOENT)
		return -errno;
	for (f = 0; f < COUNTERS_FAMILIES; f++)
		for (c = 0; c < NFSG_PCTR_MAX; c++)
			pc.v[f][c] += add->v[f][c];
	if (bpf_map_update_elem(base_fd, &k, &pc, BPF_ANY))
		return -errno;
	return 0;
}

static int fold(int base_fd, int pol_ctrs_fd, enum layout layout,
		const struct policy_set *set, __u32 gen)
{
	struct policy_counts pc;
	size_t idx;
	int err = 0;

	for (idx = 0; idx < set->n && idx < NFSG_MAX_POLICIES && !err; idx++) {
		memset(&pc, 0, sizeof(pc));
		err = add_slots(pol_ctrs_fd, layout, gen, idx, &pc);
		if (!err)
			err = add_base(base_fd, set->p[idx].k.name, &pc);
	}
	if (err)
		log_err("cannot keep the per-policy counters of generation %u: %s",
			gen, strerror(-err));
	return err;
}

int counters_fold(int base_fd, int pol_ctrs_fd, const struct policy_set *set,
		  __u32 gen)
{
	return fold(base_fd, pol_ctrs_fd, LAYOUT_FAMILY, set, gen);
}

void counters_carry_pinned(int base_fd, struct persist *p)
{
	int g;

	(void)p;
	if (old.pol_ctrs < 0)
		return;
	for (g = 0; g < NFSG_GENERATIONS; g++) {
		fold(base_fd, old.pol_ctrs, old.layout, &old.sets[g], g);
		policy_set_free(&old.sets[g]);
	}
	close(old.pol_ctrs);
	old.pol_ctrs = -1;
}

int counters_policy(int base_fd, int pol_ctrs_fd,
		    const struct policy_set sets[NFSG_GENERATIONS],
		    const char *name, struct policy_counts *out)
{
	enum layout layout = layout_of(pol_ctrs_fd);
	struct base_key k;
	size_t idx;
	int g, err = 0;

	memset(out, 0, sizeof(*out));
	key_of(name, &k);
	/* A stopped agent's base may be of the layout before ABI 3. */
	if (base_fd >= 0 && map_sizes_are(base_fd, sizeof(k),
					  NFSG_PCTR_MAX * sizeof(__u64)))
		err = bpf_map_lookup_elem(base_fd, &k,
					  out->v[COUNTERS_FAM_UNKNOWN]);
	else if (base_fd >= 0)
		err = bpf_map_lookup_elem(base_fd, &k, out);
	if (err) {
		if (errno != ENOENT)
			return -errno;
		memset(out, 0, sizeof(*out));
		err = 0;
	}
	for (g = 0; g < NFSG_GENERATIONS && layout != LAYOUT_NONE; g++)
		for (idx = 0; idx < sets[g].n && idx < NFSG_MAX_POLICIES; idx++) {
			if (strncmp(sets[g].p[idx].k.name, name, NFSG_NAME_LEN))
				continue;
			err = add_slots(pol_ctrs_fd, layout, g, idx, out);
			break;
		}
	return err;
}
