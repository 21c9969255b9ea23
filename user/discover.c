// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "discover.h"
#include "guard_prog.h"
#include "guard.h"

static int prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	else
		snprintf(name, len, "%s", info.name);
	close(fd);
	return err;
}

/* Parse /proc/PID/fdinfo/FD of a bpf_link. */
static int read_link(pid_t pid, const char *fd, struct agent_link *l)
{
	char path[320], line[128], type[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(l, 0, sizeof(*l));
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "link_type: %31s", type);
		sscanf(line, "link_id: %u", &l->link_id);
		sscanf(line, "prog_id: %u", &l->prog_id);
		sscanf(line, "cgroup_id: %llu", (unsigned long long *)&l->cgroup_id);
		sscanf(line, "tp_name: %31s", l->tp_name);
	}
	fclose(f);
	if (!l->prog_id || (strcmp(type, "cgroup") && strcmp(type, "raw_tracepoint")))
		return -ENOENT;
	return prog_name(l->prog_id, l->prog_name, sizeof(l->prog_name));
}

/* The map id in /proc/PID/fdinfo/FD, or 0. */
static __u32 read_map_id(pid_t pid, const char *fd)
{
	char path[320], line[128];
	__u32 id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "map_id: %u", &id);
	fclose(f);
	return id;
}

/* The nfsguard links process pid holds, into a. */
static void scan_process(pid_t pid, struct agent *a)
{
	char dir[64], target[64], lpath[320];
	struct agent_link l;
	struct dirent *d;
	DIR *fds;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	a->pid = pid;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	fds = opendir(dir);
	if (!fds)
		return;
	while ((d = readdir(fds))) {
		snprintf(lpath, sizeof(lpath), "%s/%s", dir, d->d_name);
		n = readlink(lpath, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, "anon_inode:bpf-map")) {
			if (a->n_maps < DISCOVER_MAX_MAPS)
				a->map_ids[a->n_maps] = read_map_id(pid, d->d_name);
			a->n_maps += a->n_maps < DISCOVER_MAX_MAPS;
			continue;
		}
		/* "bpf-link" for a link opened from a pin. */
		if ((strcmp(target, "anon_inode:bpf_link") &&
		     strcmp(target, "anon_inode:bpf-link")) ||
		    read_link(pid, d->d_name, &l) ||
		    strncmp(l.prog_name, "nfsg_", 5))
			continue;
		if (guard_hook_of(l.prog_name) == GUARD_CONNECT4) {
			a->connect4_prog = l.prog_id;
			a->cgroup_id = l.cgroup_id;
		}
		if (a->n_links < DISCOVER_MAX_LINKS)
			a->links[a->n_links++] = l;
	}
	closedir(fds);
}

int discover_agents(struct agent **out, size_t *n)
{
	struct agent a, *grown;
	struct dirent *d;
	DIR *proc;

	*out = NULL;
	*n = 0;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]) ||
		    atoi(d->d_name) == getpid())
			continue;
		scan_process(atoi(d->d_name), &a);
		if (!a.connect4_prog)
			continue;
		grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (!grown) {
			closedir(proc);
			return -ENOMEM;
		}
		*out = grown;
		(*out)[(*n)++] = a;
	}
	closedir(proc);
	return 0;
}

static void take(int *slot, int fd)
{
	if (*slot < 0)
		*slot = fd;
	else
		close(fd);
}

/* Keep map id in m if its name is one of ours. */
static void sort_map(__u32 id, struct agent_maps *m)
{
	struct bpf_map_info minfo = {};
	__u32 mlen = sizeof(minfo);
	int fd = bpf_map_get_fd_by_id(id);

	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &minfo, &mlen))
		close(fd);
	else if (!strcmp(minfo.name, "nfsg_counters") &&
		 minfo.value_size == sizeof(__u64))
		take(&m->counters, fd);
	else if (!strcmp(minfo.name, "nfsg_policies"))
		take(&m->policies, fd);
	else if (!strcmp(minfo.name, "nfsg_cgroups"))
		take(&m->cgroups, fd);
	else if (!strcmp(minfo.name, "nfsg_paths"))
		take(&m->paths, fd);
	else if (!strcmp(minfo.name, "nfsg_dests"))
		take(&m->dests, fd);
	else if (!strcmp(minfo.name, "nfsg_pol_ctrs"))
		take(&m->pol_ctrs, fd);
	else if (!strcmp(minfo.name, "nfsg_gen") &&
		 minfo.value_size == sizeof(struct nfsg_gen))
		take(&m->gen, fd);
	else if (!strcmp(minfo.name, "nfsg_meta") &&
		 minfo.value_size == sizeof(struct nfsg_meta))
		take(&m->meta, fd);
	else
		close(fd);
}

/* Sort the maps program prog_id uses into m. */
static int maps_of_prog(__u32 prog_id, struct agent_maps *m)
{
	struct bpf_prog_info info = {};
	__u32 ids[64], len = sizeof(info), i;
	int pfd, err = 0;

	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0)
		return -errno;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len))
		err = -errno;
	for (i = 0; !err && i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		sort_map(ids[i], m);
	close(pfd);
	return err;
}

int discover_maps(const struct agent *a, struct agent_maps *m)
{
	size_t i;
	int err = 0;

	memset(m, 0xff, sizeof(*m));	/* every fd -1 */
	/* Each program uses some of the maps; the agent holds the rest. */
	for (i = 0; i < a->n_links && !err; i++)
		err = maps_of_prog(a->links[i].prog_id, m);
	for (i = 0; i < a->n_maps && i < DISCOVER_MAX_MAPS; i++)
		sort_map(a->map_ids[i], m);
	if (!err && (m->counters < 0 || m->policies < 0 || m->cgroups < 0 ||
		     m->paths < 0 || m->dests < 0 || m->pol_ctrs < 0 ||
		     m->gen < 0 || m->meta < 0))
		err = -ENOENT;
	if (err)
		discover_maps_close(m);
	return err;
}

void discover_maps_close(struct agent_maps *m)
{
	int *fds[] = { &m->counters, &m->policies, &m->cgroups, &m->paths,
		       &m->dests, &m->pol_ctrs, &m->gen, &m->meta };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int counters_total(int counters_fd, int meta_fd, __u64 *out)
{
	struct nfsg_meta meta;
	__u32 zero = 0, slot;
	int err = 0;

	if (bpf_map_lookup_elem(meta_fd, &zero, &meta))
		return -errno;
	for (slot = 0; slot < NFSG_CTR_MAX && !err; slot++) {
		err = map_percpu_sum(counters_fd, slot, &out[slot]);
		out[slot] += meta.base[slot];
	}
	return err;
}

int discover_active_gen(const struct agent_maps *m, __u32 *gen)
{
	struct nfsg_gen v;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->gen, &zero, &v))
		return -errno;
	*gen = v.active;
	return 0;
}

bool map_sizes_are(int fd, __u32 key_size, __u32 value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.key_size == key_size && info.value_size == value_size;
}

int map_percpu_sum(int fd, __u32 key, __u64 *sum)
{
	int ncpu = libbpf_num_possible_cpus(), cpu, err = 0;
	__u64 *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	*sum = 0;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < ncpu; cpu++)
		*sum += vals[cpu];
	free(vals);
	return err;
}

int discover_inner(int outer, __u32 gen)
{
	__u32 id;
	int fd;

	if (bpf_map_lookup_elem(outer, &gen, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}
