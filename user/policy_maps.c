// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "log.h"
#include "map_read.h"
#include "policy_maps.h"

static int fill_policy(int pol_fd, int paths_fd, int dests_fd, __u32 idx,
		       const struct policy *p, bool sole)
{
	struct nfsg_policy k = p->k;
	struct nfsg_path_key key;
	struct nfsg_dest_key dk;
	__u8 one = 1;
	size_t i;

	if (sole)
		k.flags |= NFSG_POLICY_SOLE;
	if (bpf_map_update_elem(pol_fd, &idx, &k, BPF_ANY)) {
		log_err("cannot write policy '%s': %s", p->k.name,
			strerror(errno));
		return -errno;
	}
	for (i = 0; i < p->n_cgroups; i++) {
		memset(&key, 0, sizeof(key));
		snprintf(key.path, sizeof(key.path), "%s", p->cgroups[i]);
		if (bpf_map_update_elem(paths_fd, &key, &idx, BPF_ANY)) {
			log_err("cannot write cgroup path %s of policy '%s': %s",
				p->cgroups[i], p->k.name, strerror(errno));
			return -errno;
		}
	}
	for (i = 0; i < p->n_dests; i++) {
		dk.prefixlen = 32 + p->dests[i].prefixlen;
		dk.policy = htonl(idx);
		memcpy(dk.addr, p->dests[i].addr, sizeof(dk.addr));
		if (bpf_map_update_elem(dests_fd, &dk, &one, BPF_ANY)) {
			log_err("cannot write the allow-list of policy '%s': %s",
				p->k.name, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Name the cgroups that exist now; the mkdir watcher names later ones. */
/* Name the cgroups of s that exist now; with quiet, those that do not
 * are not said again. */
static int resolve_cgroups(int cgroups_fd, const struct policy_set *s,
			   struct cgroup2 *cg, bool quiet)
{
	__u32 idx;
	__u64 id;
	size_t i;
	int fd, err;

	for (idx = 1; idx < s->n; idx++) {
		for (i = 0; i < s->p[idx].n_cgroups; i++) {
			err = cgroup_open(cg, s->p[idx].cgroups[i], &fd, &id);
			if (err == -ENOENT) {
				if (!quiet)
					log_info("policy '%s': cgroup %s does not exist yet; it applies once created",
						 s->p[idx].k.name, s->p[idx].cgroups[i]);
				continue;
			}
			if (err) {
				log_err("policy '%s': cannot open cgroup %s: %s",
					s->p[idx].k.name, s->p[idx].cgroups[i],
					strerror(-err));
				return err;
			}
			close(fd);
			if (bpf_map_update_elem(cgroups_fd, &id, &idx, BPF_ANY)) {
				err = -errno;
				log_err("policy '%s': cannot name cgroup %s: %s",
					s->p[idx].k.name, s->p[idx].cgroups[i],
					strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

static int pin_inner(const char *dir, enum guard_inner i, __u32 gen, int fd)
{
	char path[PATH_MAX];

	/* bpffs reserves names with a dot. */
	snprintf(path, sizeof(path), "%s/%s_%u", dir, guard_inner_name(i), gen);
	unlink(path);	/* the generation before last */
	if (bpf_obj_pin(fd, path)) {
		log_err("cannot pin %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The generation's per-policy counters start from zero. */
static int zero_counters(struct guard *g, size_t n, __u32 gen)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	int fd = bpf_map__fd(g->skel->maps.nfsg_pol_ctrs);
	__u32 key, first = NFSG_PCTR_SLOT(gen, 0, 0, 0);
	__u64 *zeros;

	if (ncpu < 0)
		return ncpu;
	zeros = calloc(ncpu, sizeof(*zeros));
	if (!zeros)
		return -ENOMEM;
	for (key = first; key < NFSG_PCTR_SLOT(gen, n, 0, 0) && !err; key++)
		if (bpf_map_update_elem(fd, &key, zeros, BPF_ANY))
			err = -errno;
	if (err)
		log_err("cannot reset the policy counters: %s", strerror(-err));
	free(zeros);
	return err;
}

int policy_maps_build(struct guard *g, const struct policy_set *s,
		      struct cgroup2 *cg, __u32 gen, const char *pin_dir)
{
	/*
	 * The paths map goes in first. Writing a slot of a map-in-map makes
	 * the kernel wait until every program running finishes, so no
	 * decision that read this generation before it went idle is still
	 * running when the maps it uses are replaced. The cgroups map goes in
	 * last, just before the cgroups are named: one the watcher names
	 * meanwhile (from the new paths) lands in the map that stays.
	 */
	static const enum guard_inner order[GUARD_INNERS] = {
		GUARD_INNER_PATHS, GUARD_INNER_POLICIES, GUARD_INNER_DESTS,
		GUARD_INNER_CGROUPS,
	};
	int fds[GUARD_INNERS], err = 0, i;
	size_t n_paths = 0, n_dests = 0, p;
	__u32 idx;

	for (p = 0; p < s->n; p++) {
		n_paths += s->p[p].n_cgroups;
		n_dests += s->p[p].n_dests;
	}
	/* A path names one live cgroup at a time and rmdir frees its entry;
	 * the spare room is for cgroups removed and made again meanwhile.
	 * Empty maps get one entry: the kernel wants at least that. */
	fds[GUARD_INNER_CGROUPS] = guard_inner_create(g, GUARD_INNER_CGROUPS,
						      2 * n_paths + 64);
	fds[GUARD_INNER_POLICIES] = guard_inner_create(g, GUARD_INNER_POLICIES,
						       s->n);
	fds[GUARD_INNER_PATHS] = guard_inner_create(g, GUARD_INNER_PATHS,
						    n_paths ? n_paths : 1);
	fds[GUARD_INNER_DESTS] = guard_inner_create(g, GUARD_INNER_DESTS,
						    n_dests ? n_dests : 1);
	for (i = 0; i < GUARD_INNERS; i++)
		if (fds[i] < 0 && !err)
			err = fds[i];
	if (!err)
		err = zero_counters(g, s->n, gen);
	if (err)
		goto out;
	for (idx = 0; idx < s->n; idx++) {
		err = fill_policy(fds[GUARD_INNER_POLICIES],
				  fds[GUARD_INNER_PATHS],
				  fds[GUARD_INNER_DESTS], idx, &s->p[idx],
				  idx == 0 && !n_paths);
		if (err)
			goto out;
	}
	for (i = 0; i < GUARD_INNERS; i++) {
		err = guard_inner_install(g, order[i], gen, fds[order[i]]);
		if (!err && pin_dir)
			err = pin_inner(pin_dir, order[i], gen, fds[order[i]]);
		if (err)
			goto out;
	}
	err = resolve_cgroups(fds[GUARD_INNER_CGROUPS], s, cg, false);
out:
	for (i = 0; i < GUARD_INNERS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}

/* Generation gen's cgroups map, opened: an fd, or -errno after saying why. */
static int cgroups_map(struct guard *g, __u32 gen)
{
	int fd = map_inner(bpf_map__fd(g->skel->maps.nfsg_cgroups), gen);

	if (fd < 0)
		log_err("cannot open the cgroups map of generation %u: %s", gen,
			strerror(-fd));
	return fd;
}

int policy_maps_rename(struct guard *g, const struct policy_set *s,
		       struct cgroup2 *cg, __u32 gen)
{
	int fd = cgroups_map(g, gen), err;

	if (fd < 0)
		return fd;
	err = resolve_cgroups(fd, s, cg, true);
	close(fd);
	/* What the hooks cached of gen before this may be stale. */
	guard_set_gen(g, gen);
	return err;
}

int policy_maps_name_cgroup(struct guard *g, struct cgroup2 *cg, __u32 gen,
			    __u64 id, __u32 idx, const char *path)
{
	int fd = cgroups_map(g, gen), dirfd = -1, err = 0;
	__u32 have;
	__u64 now;

	if (fd < 0)
		return fd;
	if (!bpf_map_lookup_elem(fd, &id, &have))
		goto out;	/* named by the watcher: the usual case */
	/* Only if path is still that cgroup: a removed one stays out. */
	if (cgroup_open(cg, path, &dirfd, &now) || now != id)
		goto out;
	if (bpf_map_update_elem(fd, &id, &idx, BPF_NOEXIST) &&
	    errno != EEXIST) {
		err = -errno;
		log_err("cgroup %s is not governed by its policy: it cannot be "
			"named in the cgroups map (%s)", path, strerror(-err));
		goto out;
	}
	log_warn("cgroup %s: the kernel could not name it as it was made; "
		 "the agent did", path);
	/* A task in it may have cached its parent's policy meanwhile. */
	guard_set_gen(g, gen);
	err = 1;
out:
	if (dirfd >= 0)
		close(dirfd);
	close(fd);
	return err;
}

/* Port port of policy k's protocols, in the filter in front of decisions. */
static void mark_port(struct nfsg_portset *ps, const struct nfsg_policy *k,
		      __u32 port)
{
	if (k->protocols & NFSG_GOVERN_TCP)
		ps->tcp[port / 64] |= 1ULL << (port % 64);
	if (k->protocols & NFSG_GOVERN_UDP)
		ps->udp[port / 64] |= 1ULL << (port % 64);
}

void policy_maps_ports(const struct policy_set *s, struct nfsg_portset *ps)
{
	const struct nfsg_policy *k;
	__u32 port;
	size_t p;
	__u8 r;

	memset(ps, 0, sizeof(*ps));
	for (p = 0; p < s->n; p++) {
		k = &s->p[p].k;
		if (k->mode == NFSG_MODE_OFF)
			continue;
		for (r = 0; r < k->n_ports; r++)
			for (port = k->ports[r].lo; port <= k->ports[r].hi; port++)
				mark_port(ps, k, port);
		/* Local ports pass the filter too; the decision then checks
		 * the destination is a loopback one. */
		for (r = 0; r < k->n_lports; r++)
			for (port = k->lports[r].lo; port <= k->lports[r].hi; port++)
				mark_port(ps, k, port);
	}
}

static int write_ports(struct guard *g, const struct nfsg_portset *ps)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.nfsg_ports), &zero,
				ps, BPF_ANY)) {
		log_err("cannot write the governed ports: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int policy_maps_activate(struct guard *g, const struct policy_set *s,
			 __u32 gen)
{
	struct nfsg_portset *next, *both;
	__u32 zero = 0;
	size_t w;
	int err = -ENOMEM;

	next = calloc(1, sizeof(*next));
	both = calloc(1, sizeof(*both));
	if (!next || !both) {
		log_err("out of memory");
		goto out;
	}
	policy_maps_ports(s, next);
	/* The filter in force covers the active generation: add the new. */
	if (bpf_map_lookup_elem(bpf_map__fd(g->skel->maps.nfsg_ports), &zero,
				both)) {
		err = -errno;
		log_err("cannot read the governed ports: %s", strerror(-err));
		goto out;
	}
	for (w = 0; w < NFSG_PORT_WORDS; w++) {
		both->tcp[w] |= next->tcp[w];
		both->udp[w] |= next->udp[w];
	}
	err = write_ports(g, both);
	if (err)
		goto out;
	guard_set_gen(g, gen);
	/* gen is in force now, whatever follows: a filter left wider than
	 * its policies only sends more connects to the decision. */
	if (write_ports(g, next))
		log_warn("the port filter also passes the previous policy's ports until the next reload");
out:
	free(next);
	free(both);
	return err;
}

int policy_maps_read_pinned(const char *pin_dir, __u32 gen,
			    struct policy_set *out)
{
	struct bpf_map_info info = {};
	struct nfsg_policy k;
	struct policy *p;
	char path[PATH_MAX];
	__u32 len = sizeof(info), idx;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%s_%u", pin_dir,
		 guard_inner_name(GUARD_INNER_POLICIES), gen);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	if (info.key_size != sizeof(idx) || info.value_size != sizeof(k)) {
		err = -EPROTO;	/* another version's layout */
		goto out;
	}
	for (idx = 0; idx < info.max_entries && !err; idx++) {
		if (bpf_map_lookup_elem(fd, &idx, &k)) {
			err = -errno;
			break;
		}
		p = policy_set_add(out, NULL, "");
		if (!p)
			err = -ENOMEM;
		else
			p->k = k;
	}
out:
	close(fd);
	if (err)
		policy_set_free(out);
	return err;
}
