// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probe.skel.h"
#include "sockdiag.h"
#include "log.h"
#include "probe.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/*
 * Each feature: its name in 'nfsguard probe', the first mainline kernel
 * that has it (for messages only: the probe decides, not the version),
 * and what nfsguard does without it. A NULL 'without' marks it required.
 */
static const struct {
	const char *name;
	const char *what;
	const char *since;
	const char *without;
} features[KF_COUNT] = {
	[KF_BTF] = { "btf", "kernel BTF at " VMLINUX_BTF, "5.4 with CONFIG_DEBUG_INFO_BTF=y", NULL },
	[KF_SOCK_ADDR] = { "sock_addr", "cgroup connect and sendmsg programs", "4.17 with CONFIG_CGROUP_BPF=y", NULL },
	[KF_RINGBUF] = { "ringbuf", "the BPF ring buffer", "5.8", NULL },
	[KF_CGROUP_TP] = { "cgroup_tracepoints", "BTF tracepoints cgroup_mkdir and cgroup_rmdir", "5.5", NULL },
	[KF_DIRECT_READS] = { "direct_reads", "bpf_rdonly_cast in sock_addr programs", "6.7",
			      "socket facts read with bpf_probe_read_kernel: the same decisions, a few helper calls more per governed connect" },
	[KF_ATOMICS] = { "atomics", "BPF compare-and-exchange", "5.12",
			 "the event rate limit is approximate when CPUs race for one cgroup and uid" },
	[KF_TRACE] = { "tracing", "socket cookies in BTF tracepoints", "5.12",
		       "no tracing of allowed connects (--trace, 'nfsguard trace')" },
	[KF_TRACE_ERRORS] = { "trace_errors", "the inet_sk_error_report tracepoint", "5.15",
			      "a traced failure's errno comes only from the socket's last error" },
	[KF_TRACE_CONNECT] = { "connect_errors", "fexit programs attached to __inet_stream_connect", "5.5 on x86-64, 6.0 on arm64",
			       "a traced connect that fails in the call itself (no route: ENETUNREACH) is reported failed, with its errno unknown, when its socket is closed" },
	[KF_SKB_PID] = { "egress_pid", "the calling task's pid in cgroup_skb programs", "newer than 6.1",
			 "backstop events carry no pid, and the agent finds a refused socket's network namespace by its inode" },
	[KF_SKB_COMM] = { "egress_comm", "the calling task's comm in cgroup_skb programs", "newer than 6.12",
			  "backstop events carry no comm" },
	[KF_SOCK_ITER] = { "socket_iter", "TCP and UDP socket iterators (iter/tcp, iter/udp) judging existing connections in the kernel", "5.9",
			   "existing connections are listed with a sock_diag dump and judged by the agent on the same policy" },
	[KF_SOCK_DESTROY] = { "sock_destroy", "bpf_sock_destroy() from a socket iterator", "6.5",
			      "violating existing connections are aborted with sock_diag's SOCK_DESTROY" },
	[KF_DIAG_DESTROY] = { "diag_destroy", "sock_diag SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY)", "4.5 with CONFIG_INET_DIAG_DESTROY=y",
			      "no abort of connects the backstop refused (they time out), nor of existing connections without sock_destroy" },
	[KF_TASK_FILES] = { "task_files", "task_file iterators (iter/task_file) naming the processes that hold a socket", "5.8",
			    "the holders of existing connections are found through /proc/PID/fd, which needs CAP_SYS_PTRACE for other users' processes" },
	[KF_CG_CACHE] = { "cgroup_cache", "cgroup local storage in sock_addr programs, of the connecting task's cgroup: each cgroup's policy index kept in the cgroup", "6.2",
			  "each governed connect looks its cgroup and ancestors up in the cgroups map, at a cost that grows a little with the map's size" },
};

const char *kfeature_name(enum kfeature k)
{
	return features[k].name;
}

const char *kfeature_what(enum kfeature k)
{
	return features[k].what;
}

const char *kfeature_since(enum kfeature k)
{
	return features[k].since;
}

const char *kfeature_without(enum kfeature k)
{
	return features[k].without;
}

const char *probe_sockets_name(const struct kplan *p)
{
	return p->sockets == SOCKETS_ITER ? "iterator" : "sock_diag";
}

const char *probe_holders_name(const struct kplan *p)
{
	return p->holders == HOLDERS_ITER ? "iterator" : "proc";
}

const char *probe_destroy_name(const struct kplan *p)
{
	return p->destroy == DESTROY_BPF ? "bpf_sock_destroy" :
	       p->destroy == DESTROY_DIAG ? "sock_diag" : "none";
}

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

const char *probe_command = "nfsguard";

/* Is sudo on the PATH? Only then is "sudo ..." a hint that works. */
static bool have_sudo(void)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX], exe[PATH_MAX + 8];
	size_t n;

	for (path = path ? path : "/usr/bin:/bin"; *path; path += n + !!path[n]) {
		n = strcspn(path, ":");
		if (!n || n >= sizeof(dir))
			continue;
		memcpy(dir, path, n);
		dir[n] = '\0';
		snprintf(exe, sizeof(exe), "%s/sudo", dir);
		if (!access(exe, X_OK))
			return true;
	}
	return false;
}

int probe_privileges(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	bool admin, bpf, perfmon, netadmin;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0) {
		log_err("cannot read own capabilities: %s", strerror(errno));
		return -errno;
	}
	admin = has_cap(d, CAP_SYS_ADMIN);
	bpf = admin || has_cap(d, CAP_BPF);
	perfmon = admin || has_cap(d, CAP_PERFMON);
	netadmin = has_cap(d, CAP_NET_ADMIN);
	if (bpf && perfmon && netadmin) {
		if (!has_cap(d, CAP_DAC_READ_SEARCH))
			log_info("without CAP_DAC_READ_SEARCH, cgroup paths show as '?'");
		return 0;
	}
	/* A hint that works here: root's shell, sudo, or a container's caps. */
	log_err("missing privileges:%s%s%s: %s%s%s",
		bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON",
		netadmin ? "" : " CAP_NET_ADMIN",
		geteuid() == 0 ? "root without these capabilities (a container?): grant them to '" :
		have_sudo() ? "run as root: sudo " : "run as root, in a root shell: '",
		probe_command,
		geteuid() == 0 || !have_sudo() ? "'" : "");
	return -EPERM;
}

int probe_btf(void)
{
	if (access(VMLINUX_BTF, R_OK) == 0)
		return 0;
	log_err("no kernel BTF at %s (%s): boot a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		VMLINUX_BTF, strerror(errno));
	return -ENOENT;
}

/* Does the verifier accept probe program name, loaded on its own; and
 * with attach, does it attach too? For fexit, as bcc's fentry_can_attach
 * knows, a kernel may load a trampoline's program and refuse to attach
 * it. A link made is destroyed at once. */
static bool prog_probe(const char *name, bool attach)
{
	struct nfsg_probe *skel = nfsg_probe__open();
	struct bpf_program *p, *mine = NULL;
	struct bpf_link *link = NULL;
	bool ok = false;

	if (!skel)
		return false;
	bpf_object__for_each_program(p, skel->obj) {
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
		if (bpf_program__autoload(p))
			mine = p;
	}
	/* A map type older kernels refuse: made only for its own probe. */
	bpf_map__set_autocreate(skel->maps.nfsg_pr_cgstore,
				!strcmp(name, "nfsg_pr_cgcache"));
	ok = mine && !nfsg_probe__load(skel);
	if (ok && attach) {
		link = bpf_program__attach(mine);
		ok = link != NULL;
	}
	bpf_link__destroy(link);
	nfsg_probe__destroy(skel);
	return ok;
}

static bool prog_loads(const char *name)
{
	return prog_probe(name, false);
}

static bool prog_attaches(const char *name)
{
	return prog_probe(name, true);
}

/* Does this kernel answer SOCK_DESTROY (for a socket that is not there:
 * ENOENT), or refuse the command (EOPNOTSUPP)? */
static bool diag_destroys(void)
{
	struct sockdiag_sock none = { .family = AF_INET,
				      .protocol = IPPROTO_TCP };
	int fd = sockdiag_open(-1), err;

	if (fd < 0)
		return false;
	err = sockdiag_destroy(fd, &none);
	close(fd);
	return err == -ENOENT || err == -ESTALE;
}

static bool btf_has(const struct btf *vmlinux, const char *name, int kind)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, name, kind) > 0;
}

void probe_features(struct kfeatures *f)
{
	struct btf *vmlinux = NULL;
	bool quiet = log_libbpf_quiet(true);

	memset(f, 0, sizeof(*f));
	f->have[KF_BTF] = access(VMLINUX_BTF, R_OK) == 0;
	if (f->have[KF_BTF])
		vmlinux = btf__load_vmlinux_btf();
	f->have[KF_BTF] = vmlinux != NULL;
	f->have[KF_SOCK_ADDR] =
		libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL) > 0;
	f->have[KF_RINGBUF] =
		libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) > 0;
	f->have[KF_CGROUP_TP] =
		btf_has(vmlinux, "btf_trace_cgroup_mkdir", BTF_KIND_TYPEDEF) &&
		btf_has(vmlinux, "btf_trace_cgroup_rmdir", BTF_KIND_TYPEDEF);
	if (f->have[KF_BTF] && f->have[KF_SOCK_ADDR]) {
		f->have[KF_DIRECT_READS] = prog_loads("nfsg_pr_cast");
		f->have[KF_ATOMICS] = prog_loads("nfsg_pr_atomic");
		f->have[KF_TRACE] = prog_loads("nfsg_pr_cookie");
		f->have[KF_TRACE_CONNECT] = f->have[KF_TRACE] &&
					    prog_attaches("nfsg_pr_fexit");
		f->have[KF_SKB_PID] = prog_loads("nfsg_pr_skbpid");
		f->have[KF_SKB_COMM] = prog_loads("nfsg_pr_skbcomm");
		f->have[KF_SOCK_ITER] = prog_loads("nfsg_pr_itertcp") &&
					prog_loads("nfsg_pr_iterudp");
		f->have[KF_SOCK_DESTROY] = f->have[KF_SOCK_ITER] &&
					   prog_loads("nfsg_pr_destroy");
		f->have[KF_TASK_FILES] = prog_loads("nfsg_pr_taskfile");
		f->have[KF_CG_CACHE] = prog_loads("nfsg_pr_cgcache");
	}
	f->have[KF_DIAG_DESTROY] = diag_destroys();
	f->have[KF_TRACE_ERRORS] =
		btf_has(vmlinux, "btf_trace_inet_sk_error_report", BTF_KIND_TYPEDEF);
	btf__free(vmlinux);
	/* Reserved for the tests: the paths of older kernels, on this one.
	 * Each only takes a feature away; the decisions stay the same. */
	if (getenv("NFSG_TEST_NO_DIRECT_READS"))
		f->have[KF_DIRECT_READS] = false;
	if (getenv("NFSG_TEST_NO_ATOMICS"))
		f->have[KF_ATOMICS] = false;
	if (getenv("NFSG_TEST_NO_SKB_TASK"))
		f->have[KF_SKB_PID] = f->have[KF_SKB_COMM] = false;
	if (getenv("NFSG_TEST_NO_SOCK_ITER"))
		f->have[KF_SOCK_ITER] = false;
	if (getenv("NFSG_TEST_NO_TASK_FILES"))
		f->have[KF_TASK_FILES] = false;
	if (getenv("NFSG_TEST_NO_CG_CACHE"))
		f->have[KF_CG_CACHE] = false;
	if (getenv("NFSG_TEST_NO_SOCK_DESTROY") || !f->have[KF_SOCK_ITER])
		f->have[KF_SOCK_DESTROY] = false;
	log_libbpf_quiet(quiet);
}

void probe_plan(const struct kfeatures *f, struct kplan *p)
{
	p->enforce = f->have[KF_BTF] && f->have[KF_SOCK_ADDR] &&
		     f->have[KF_RINGBUF] && f->have[KF_CGROUP_TP];
	if (!f->have[KF_ATOMICS])
		p->hooks = HOOKS_LEGACY;
	else if (!f->have[KF_DIRECT_READS])
		p->hooks = HOOKS_PROBED;
	else
		p->hooks = HOOKS_DIRECT;
	p->trace = f->have[KF_TRACE];
	p->trace_errors = p->trace && f->have[KF_TRACE_ERRORS];
	p->trace_calls = p->trace && f->have[KF_TRACE_CONNECT] ?
				 NFSG_CALL_ERRORS_FEXIT : NFSG_CALL_ERRORS_NONE;
	p->skb_pid = f->have[KF_SKB_PID];
	p->skb_comm = f->have[KF_SKB_COMM];
	p->diag_destroy = f->have[KF_DIAG_DESTROY];
	p->sockets = f->have[KF_SOCK_ITER] ? SOCKETS_ITER : SOCKETS_DIAG;
	p->sockets_cookie = p->sockets == SOCKETS_ITER && f->have[KF_TRACE];
	p->holders = f->have[KF_TASK_FILES] ? HOLDERS_ITER : HOLDERS_PROC;
	/* The cache reads the socket's cgroup directly, to compare it. */
	p->cg_cache = p->hooks == HOOKS_DIRECT && f->have[KF_CG_CACHE];
	if (f->have[KF_SOCK_DESTROY])
		p->destroy = DESTROY_BPF;
	else if (f->have[KF_DIAG_DESTROY])
		p->destroy = DESTROY_DIAG;
	else
		p->destroy = DESTROY_NONE;
}

int probe_kernel(struct kplan *p)
{
	char without[1024] = "";
	struct kfeatures f;
	struct utsname u;
	size_t n = 0;
	int k;

	probe_features(&f);
	probe_plan(&f, p);
	for (k = 0; k < KF_COUNT; k++) {
		if (f.have[k])
			continue;
		if (!features[k].without) {
			log_err("kernel lacks %s (%s), which nfsguard needs: use Linux %s or later",
				features[k].name, features[k].what,
				features[k].since);
			return -EOPNOTSUPP;
		}
		if ((k == KF_TRACE_ERRORS || k == KF_TRACE_CONNECT) &&
		    !f.have[KF_TRACE])
			continue;	/* said with tracing */
		if (k == KF_SOCK_DESTROY && !f.have[KF_SOCK_ITER])
			continue;	/* said with the iterator */
		n += snprintf(without + n, n < sizeof(without) ? sizeof(without) - n : 0,
			      "%s%s (%s needs Linux %s): %s", n ? "; " : "",
			      features[k].name, features[k].what,
			      features[k].since, features[k].without);
	}
	if (n) {
		if (uname(&u))
			snprintf(u.release, sizeof(u.release), "?");
		log_info("kernel %s runs nfsguard without %s", u.release, without);
	}
	return 0;
}
