// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>
#include "guard.skel.h"
#include "agent.h"
#include "control.h"
#include "counters.h"
#include "map_read.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"

#define METRICS_CONNECTIONS 8
#define METRICS_TIMEOUT_S 10

struct metrics {
	struct nfsg_agent *a;
	struct MHD_Daemon *d;
	int tag;		/* its address is the epoll tag */
};

/* A label value: \ " and newline escaped, as the format says. */
static void label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void head(FILE *out, const char *name, const char *type,
		 const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Entries of generation gen's inner map of outer. */
static unsigned long count_entries(int outer, __u32 gen, size_t key_size)
{
	char key[NFSG_PATH_LEN], next[NFSG_PATH_LEN];
	unsigned long n = 0;
	void *prev = NULL;
	int fd = map_inner(outer, gen);

	if (fd < 0 || key_size > sizeof(key)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (n < 1000000 && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	close(fd);
	return n;
}

/* utime + stime, and the resident set, from /proc/self. */
static void self_usage(double *cpu_s, double *rss)
{
	unsigned long long ut = 0, st = 0, pages = 0, size;
	char line[1024], *p;
	FILE *f;

	*cpu_s = *rss = 0;
	f = fopen("/proc/self/stat", "re");
	if (f) {
		p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) == 2)
			*cpu_s = (double)(ut + st) / sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &size, &pages) == 2)
			*rss = (double)pages * sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

void metrics_write(FILE *out, struct nfsg_agent *a)
{
	static const char *const verdicts[NFSG_PCTR_MAX] = {
		"allowed", "refused", "audited",
	};
	struct nfsg_guard *sk = a->g.skel;
	const struct policy_set *set = agent_policy(a);
	__u64 c[NFSG_CTR_MAX] = {};
	struct policy_counts pc;
	struct utsname u;
	double cpu, rss;
	size_t i, named = 0;
	int v, f;

	agent_counters(a, c);
	uname(&u);
	head(out, "nfsguard_build_info", "gauge",
	     "The agent's version and the kernel it runs on.");
	fprintf(out, "nfsguard_build_info{version=\"%s\",kernel=\"", NFSG_VERSION);
	label(out, u.release);
	fputs("\"} 1\n", out);
	head(out, "nfsguard_connects_total", "counter",
	     "Governed connects and sends, by verdict (all policies).");
	for (v = 0; v < NFSG_PCTR_MAX; v++)
		fprintf(out, "nfsguard_connects_total{verdict=\"%s\"} %llu\n",
			verdicts[v], (unsigned long long)c[NFSG_CTR_ALLOWED + v]);
	head(out, "nfsguard_connects_refused_total", "counter",
	     "Governed connects and sends refused with EPERM.");
	fprintf(out, "nfsguard_connects_refused_total %llu\n",
		(unsigned long long)c[NFSG_CTR_REFUSED]);
	head(out, "nfsguard_connects_passed_total", "counter",
	     "Connects to a governed port that no policy governed there.");
	fprintf(out, "nfsguard_connects_passed_total %llu\n",
		(unsigned long long)c[NFSG_CTR_PASSED]);
	head(out, "nfsguard_policy_connects_total", "counter",
	     "Governed connects by policy, address family (the hook's) and verdict; a policy keeps its counters by name across reloads, restarts and upgrades (family unknown: counted by a build before ABI 3).");
	for (i = 0; i < set->n; i++) {
		if (counters_policy(a->pol_base_fd, bpf_map__fd(sk->maps.nfsg_pol_ctrs),
				    a->sets, set->p[i].k.name, &pc))
			continue;
		named += set->p[i].n_cgroups;
		for (f = 0; f < COUNTERS_FAMILIES; f++) {
			if (!counters_family_shown(&pc, f))
				continue;
			for (v = 0; v < NFSG_PCTR_MAX; v++) {
				fputs("nfsguard_policy_connects_total{policy=\"", out);
				label(out, set->p[i].k.name);
				fprintf(out, "\",family=\"%s\",verdict=\"%s\"} %llu\n",
					counters_family_name(f), verdicts[v],
					(unsigned long long)pc.v[f][v]);
			}
		}
	}
	head(out, "nfsguard_events_total", "counter",
	     "Event records the agent read from the kernel.");
	fprintf(out, "nfsguard_events_total %llu\n", (unsigned long long)a->stats.events);
	head(out, "nfsguard_events_dropped_total", "counter",
	     "Events lost because the ring buffer was full.");
	fprintf(out, "nfsguard_events_dropped_total %llu\n",
		(unsigned long long)c[NFSG_CTR_EVENTS_DROPPED]);
	head(out, "nfsguard_events_suppressed_total", "counter",
	     "Events the rate limit held back (and counted).");
	fprintf(out, "nfsguard_events_suppressed_total %llu\n",
		(unsigned long long)a->stats.suppressed);
	head(out, "nfsguard_existing_connections_total", "counter",
	     "Connections found violating at start, reload or by request, by what was done.");
	fprintf(out, "nfsguard_existing_connections_total{action=\"reported\"} %llu\n",
		(unsigned long long)(a->stats.existing_violating -
				     a->stats.existing_destroyed -
				     a->stats.existing_failed));
	fprintf(out, "nfsguard_existing_connections_total{action=\"destroyed\"} %llu\n",
		(unsigned long long)a->stats.existing_destroyed);
	fprintf(out, "nfsguard_existing_connections_total{action=\"failed\"} %llu\n",
		(unsigned long long)a->stats.existing_failed);
	head(out, "nfsguard_reloads_total", "counter",
	     "Configuration reloads, by result.");
	fprintf(out, "nfsguard_reloads_total{result=\"success\"} %llu\n",
		(unsigned long long)a->stats.reloads_ok);
	fprintf(out, "nfsguard_reloads_total{result=\"failure\"} %llu\n",
		(unsigned long long)a->stats.reloads_failed);
	head(out, "nfsguard_last_reload_timestamp_seconds", "gauge",
	     "When the last reload was tried (0: never).");
	fprintf(out, "nfsguard_last_reload_timestamp_seconds %.3f\n",
		a->stats.last_reload_ns / 1e9);
	head(out, "nfsguard_last_reload_success", "gauge",
	     "Whether the last reload succeeded.");
	fprintf(out, "nfsguard_last_reload_success %d\n",
		a->stats.last_reload_ok || !a->stats.last_reload_ns);
	head(out, "nfsguard_cgroups_named", "gauge",
	     "Cgroup paths the active policies name.");
	fprintf(out, "nfsguard_cgroups_named %zu\n", named);
	head(out, "nfsguard_cgroups_resolved", "gauge",
	     "Cgroups that exist and carry a policy now.");
	fprintf(out, "nfsguard_cgroups_resolved %lu\n",
		count_entries(bpf_map__fd(sk->maps.nfsg_cgroups), a->gen, sizeof(__u64)));
	head(out, "nfsguard_cgroups_named_by_agent_total", "counter",
	     "New cgroups the kernel side could not name, named by the agent.");
	fprintf(out, "nfsguard_cgroups_named_by_agent_total %llu\n",
		(unsigned long long)a->stats.cgroups_named_by_agent);
	head(out, "nfsguard_generation", "gauge", "The active policy generation.");
	fprintf(out, "nfsguard_generation %u\n", a->gen);
	head(out, "nfsguard_readers", "gauge",
	     "Readers of 'nfsguard events' connected.");
	fprintf(out, "nfsguard_readers %u\n", control_readers(a->ctl));
	head(out, "nfsguard_attach_point_present", "gauge",
	     "Whether the cgroup the hooks are attached to still exists.");
	fprintf(out, "nfsguard_attach_point_present %d\n", !a->attach_gone);
	self_usage(&cpu, &rss);
	head(out, "nfsguard_process_cpu_seconds_total", "counter",
	     "User and system CPU time the agent used.");
	fprintf(out, "nfsguard_process_cpu_seconds_total %.2f\n", cpu);
	head(out, "nfsguard_process_resident_memory_bytes", "gauge",
	     "The agent's resident memory.");
	fprintf(out, "nfsguard_process_resident_memory_bytes %.0f\n", rss);
	head(out, "nfsguard_uptime_seconds", "gauge", "Since the agent started.");
	fprintf(out, "nfsguard_uptime_seconds %.3f\n",
		(agent_clock_ns(CLOCK_MONOTONIC) - a->started_ns) / 1e9);
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn,
			     const char *url, const char *method,
			     const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	char *buf = NULL;
	size_t len = 0;
	unsigned int code = MHD_HTTP_OK;
	enum MHD_Result ret;
	FILE *out;

	(void)version;
	(void)upload;
	if (*upload_size)
		return MHD_NO;	/* no body is wanted */
	if (!*con_cls) {
		*con_cls = m;	/* the headers are in: answer next time */
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		code = MHD_HTTP_NOT_FOUND;
	}
	out = open_memstream(&buf, &len);
	if (!out)
		return MHD_NO;
	if (code == MHD_HTTP_OK)
		metrics_write(out, m->a);
	else
		fputs(code == MHD_HTTP_NOT_FOUND ? "only /metrics here\n"
						 : "GET only\n", out);
	fclose(out);
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
				code == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
						    : "text/plain");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("metrics: %s", msg);
}

int metrics_open(struct metrics **out, struct nfsg_agent *a, const char *addr,
		 int epoll_fd)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *info;
	char host[64], service[8];
	struct addrinfo *ai = NULL;
	struct metrics *m;
	__u16 port;
	int err;

	*out = NULL;
	if (!parse_host_port(addr, host, sizeof(host), &port)) {
		log_err("invalid metrics address '%s': give ADDRESS:PORT, e.g. 127.0.0.1:9108",
			addr);
		return -EINVAL;
	}
	snprintf(service, sizeof(service), "%u", port);
	err = getaddrinfo(host, service, &hints, &ai);
	if (err) {
		log_err("invalid metrics address '%s': %s", addr, gai_strerror(err));
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	m->a = a;
	m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, serve, m,
				MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!m->d) {
		err = errno ? -errno : -EADDRINUSE;
		log_err("cannot serve metrics at %s: %s: is the address this host's and the port free?",
			addr, strerror(-err));
		free(m);
		return err;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	ev.data.ptr = &m->tag;
	if (!info || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, info->epoll_fd, &ev)) {
		err = -errno;
		log_err("cannot wait on the metrics server: %s", strerror(-err));
		metrics_close(m);
		return err;
	}
	log_info("serving metrics at http://%s/metrics", addr);
	*out = m;
	return 0;
}

bool metrics_owns(const struct metrics *m, const void *tag)
{
	return m && tag == &m->tag;
}

void metrics_run(struct metrics *m)
{
	if (m)
		MHD_run(m->d);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
