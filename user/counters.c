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
#include "discover.h"
#include "log.h"
#include "persist.h"
#include "policy_maps.h"

struct base_key {
	char name[NFSG_NAME_LEN];
};

/* What a rebuild reads of the old maps before they are replaced. */
static struct {
	int pol_ctrs;
	struct policy_set sets[NFSG_GENERATIONS];
} old = { .pol_ctrs = -1 };

static int slot_sum(int pol_ctrs_fd, __u32 gen, __u32 idx, __u32 c, __u64 *v)
{
	return map_percpu_sum(pol_ctrs_fd, (gen * NFSG_MAX_POLICIES + idx) *
					   NFSG_PCTR_MAX + c, v);
}

static void key_of(const char *name, struct base_key *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
}

/* An old per-policy counter map we can read: the layout we know. */
static int open_old_pol_ctrs(struct persist *p)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	pin_dir_path(&p->pins, "nfsg_pol_ctrs", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != 4 ||
	    info.value_size != sizeof(__u64) ||
	    info.max_entries < NFSG_GENERATIONS * NFSG_MAX_POLICIES * NFSG_PCTR_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

int counters_open(int *base_fd, struct persist *p, int plan)
{
	char path[PATH_MAX];
	int fd = -1, err = 0, g;

	*base_fd = -1;
	if (p) {
		pin_dir_path(&p->pins, COUNTERS_BASE_NAME, path, sizeof(path));
		fd = plan == AGENT_FRESH ? -1 : bpf_obj_get(path);
		if (fd >= 0 && !map_sizes_are(fd, sizeof(struct base_key),
					      NFSG_PCTR_MAX * sizeof(__u64))) {
			close(fd);
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
				    NFSG_PCTR_MAX * sizeof(__u64),
				    COUNTERS_BASE_MAX, NULL);
		if (fd < 0) {
			err = -errno;
			log_err("cannot create map %s: %s", COUNTERS_BASE_NAME,
				strerror(-err));
			return err;
		}
		if (p) {
			/* A pin of another layout: checked as ours at open. */
			if (unlinkat(p->pins.fd, COUNTERS_BASE_NAME, 0) &&
			    errno != ENOENT)
				err = -errno;
			if (!err && bpf_obj_pin(fd, path))
				err = -errno;
			if (err) {
				log_err("cannot pin %s in %s: %s",
					COUNTERS_BASE_NAME, p->dir, strerror(-err));
				close(fd);
				return err;
			}
		}
	}
	*base_fd = fd;
	return 0;
}

static int add_base(int base_fd, const char *name, const __u64 *add)
{
	__u64 v[NFSG_PCTR_MAX] = {};
	struct base_key k;
	int i;

	key_of(name, &k);
	if (bpf_map_lookup_elem(base_fd, &k, v) && errno != ENOENT)
		return -errno;
	for (i = 0; i < NFSG_PCTR_MAX; i++)
		v[i] += add[i];
	if (bpf_map_update_elem(base_fd, &k, v, BPF_ANY))
		return -errno;
	return 0;
}

int counters_fold(int base_fd, int pol_ctrs_fd, const struct policy_set *set,
		  __u32 gen)
{
	__u64 v[NFSG_PCTR_MAX];
	size_t idx;
	int c, err = 0;

	for (idx = 0; idx < set->n && idx < NFSG_MAX_POLICIES && !err; idx++) {
		for (c = 0; c < NFSG_PCTR_MAX && !err; c++)
			err = slot_sum(pol_ctrs_fd, gen, idx, c, &v[c]);
		if (!err)
			err = add_base(base_fd, set->p[idx].k.name, v);
	}
	if (err)
		log_err("cannot keep the per-policy counters of generation %u: %s",
			gen, strerror(-err));
	return err;
}

void counters_carry_pinned(int base_fd, struct persist *p)
{
	int g;

	(void)p;
	if (old.pol_ctrs < 0)
		return;
	for (g = 0; g < NFSG_GENERATIONS; g++) {
		counters_fold(base_fd, old.pol_ctrs, &old.sets[g], g);
		policy_set_free(&old.sets[g]);
	}
	close(old.pol_ctrs);
	old.pol_ctrs = -1;
}

int counters_policy(int base_fd, int pol_ctrs_fd,
		    const struct policy_set sets[NFSG_GENERATIONS],
		    const char *name, __u64 out[NFSG_PCTR_MAX])
{
	struct base_key k;
	__u64 v;
	size_t idx;
	int g, c, err = 0;

	memset(out, 0, NFSG_PCTR_MAX * sizeof(*out));
	key_of(name, &k);
	if (base_fd >= 0 && bpf_map_lookup_elem(base_fd, &k, out)) {
		if (errno != ENOENT)
			return -errno;
		memset(out, 0, NFSG_PCTR_MAX * sizeof(*out));
	}
	for (g = 0; g < NFSG_GENERATIONS; g++)
		for (idx = 0; idx < sets[g].n && idx < NFSG_MAX_POLICIES; idx++) {
			if (strncmp(sets[g].p[idx].k.name, name, NFSG_NAME_LEN))
				continue;
			for (c = 0; c < NFSG_PCTR_MAX && !err; c++) {
				err = slot_sum(pol_ctrs_fd, g, idx, c, &v);
				out[c] += v;
			}
			break;
		}
	return err;
}
