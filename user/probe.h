/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the running kernel offers nfsguard, found by probing (what the
 * verifier accepts, which BTF types exist), never by its version; and the
 * one decision of how the agent uses it. Each failing required check
 * prints one line naming the cause and the fix, and returns -errno.
 */
#ifndef NFSGUARD_PROBE_H
#define NFSGUARD_PROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "guard.h"

enum kfeature {
	KF_BTF,			/* kernel BTF, for CO-RE */
	KF_SOCK_ADDR,		/* cgroup sock_addr programs */
	KF_RINGBUF,		/* the BPF ring buffer */
	KF_CGROUP_TP,		/* tp_btf/cgroup_mkdir and _rmdir */
	KF_DIRECT_READS,	/* bpf_rdonly_cast in sock_addr programs */
	KF_ATOMICS,		/* BPF compare-and-exchange */
	KF_TRACE,		/* socket cookies in BTF tracepoints */
	KF_TRACE_ERRORS,	/* the inet_sk_error_report tracepoint */
	KF_TRACE_CONNECT,	/* fexit/__inet_stream_connect attaches: its return */
	KF_SKB_PID,		/* the calling task's pid in cgroup_skb programs */
	KF_SKB_COMM,		/* ... and its comm */
	KF_SOCK_ITER,		/* iter/tcp, iter/udp: existing sockets judged in the kernel */
	KF_SOCK_DESTROY,	/* bpf_sock_destroy() from the iterator */
	KF_DIAG_DESTROY,	/* sock_diag SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY) */
	KF_TASK_FILES,		/* iter/task_file: holders of sockets without /proc */
	KF_CG_CACHE,		/* cgroup local storage of the task's cgroup in the hooks */
	KF_COUNT,
};

struct kfeatures {
	bool have[KF_COUNT];
};

/* The builds of the hooks (see "Builds" in bpf/guard.bpf.c). */
enum hook_build {
	HOOKS_DIRECT,		/* direct reads, atomics (nfsg_<hook>) */
	HOOKS_PROBED,		/* probed reads, atomics (nfsg_<hook>_p) */
	HOOKS_LEGACY,		/* probed reads, no atomics (nfsg_<hook>_l) */
	HOOK_BUILDS,
};

/* How existing sockets are listed and judged (see user/sockets.h). */
enum sockets_path {
	SOCKETS_ITER,		/* the guard object's iter/tcp and iter/udp */
	SOCKETS_DIAG,		/* a sock_diag dump, judged by the agent */
};

/* How the processes holding a socket are found. */
enum holders_path {
	HOLDERS_ITER,		/* the guard object's iter/task_file program */
	HOLDERS_PROC,		/* /proc/PID/fd (CAP_SYS_PTRACE for others') */
};

/* How a violating existing socket is aborted. */
enum destroy_path {
	DESTROY_BPF,		/* bpf_sock_destroy() in the iterator */
	DESTROY_DIAG,		/* sock_diag SOCK_DESTROY */
	DESTROY_NONE,		/* neither: reported only */
};

/* How the agent runs on this kernel: the one decision (probe_plan). */
struct kplan {
	bool enforce;		/* every required feature is there */
	enum hook_build hooks;	/* the build of the hooks to load */
	bool trace;		/* tracing of allowed connects can load */
	bool trace_errors;	/* ... with the errors sockets report */
	enum nfsg_call_errors trace_calls; /* ... and those a connect call
					 * returns: learnt how */
	bool skb_pid;		/* the backstop's events name the task's pid */
	bool skb_comm;		/* ... and comm */
	bool diag_destroy;	/* sock_diag SOCK_DESTROY works (backstop) */
	enum sockets_path sockets;	/* existing sockets: how listed */
	bool sockets_cookie;	/* ... the iterator names each by its cookie
				 * (bpf_get_socket_cookie in tracing programs,
				 * the helper KF_TRACE probes); else the agent
				 * asks sock_diag for it before an abort */
	enum destroy_path destroy;	/* ... and how aborted */
	enum holders_path holders;	/* ... and who holds them */
	bool cg_cache;		/* the hooks keep each cgroup's policy index in
				 * the cgroup (only with the direct build) */
};

/* The command being run ("nfsguard status"), for the hint below. */
extern const char *probe_command;
/*
 * The capabilities needed to load, read kernel memory via BTF, and attach
 * (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN), or one line with a hint that
 * works here: sudo where it is installed, a root shell, or for a root
 * without them (a container), granting them.
 */
int probe_privileges(void);
/* Kernel BTF, needed for CO-RE and the socket-owner reads. */
int probe_btf(void);
/* Probe every feature; prints nothing. */
void probe_features(struct kfeatures *f);
/* The one decision: what to use, from what the kernel has. */
void probe_plan(const struct kfeatures *f, struct kplan *p);
/*
 * Probe and decide for the agent: -EOPNOTSUPP after one line naming the
 * first missing required feature and the kernel that has it; else one
 * line for what this kernel runs without (if anything) and 0.
 */
int probe_kernel(struct kplan *p);
/* For 'nfsguard probe': a feature's name, what it is, the first mainline
 * kernel with it, and what nfsguard does without it (NULL: required). */
const char *kfeature_name(enum kfeature k);
const char *kfeature_what(enum kfeature k);
const char *kfeature_since(enum kfeature k);
const char *kfeature_without(enum kfeature k);
/* "iterator" or "sock_diag"; "bpf_sock_destroy", "sock_diag" or "none". */
const char *probe_sockets_name(const struct kplan *p);
const char *probe_destroy_name(const struct kplan *p);
/* "iterator" or "proc". */
const char *probe_holders_name(const struct kplan *p);
#endif
