// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "probe.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
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
	log_err("missing privileges:%s%s%s: run as root, e.g. sudo nfsguard run",
		bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON",
		netadmin ? "" : " CAP_NET_ADMIN");
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

int probe_kernel(void)
{
	struct btf *vmlinux;
	int id, err;

	err = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL);
	if (err <= 0) {
		log_err("kernel cannot load cgroup sock_addr programs: use Linux 6.2 or later with CONFIG_CGROUP_BPF=y");
		return err < 0 ? err : -EOPNOTSUPP;
	}
	err = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (err <= 0) {
		log_err("kernel has no BPF ring buffer: use Linux 6.2 or later");
		return err < 0 ? err : -EOPNOTSUPP;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		err = -errno;
		log_err("cannot read kernel BTF: %s: boot a kernel built with CONFIG_DEBUG_INFO_BTF=y",
			strerror(-err));
		return err;
	}
	id = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0) {
		log_err("kernel lacks the bpf_rdonly_cast kfunc needed to read the socket owner: use Linux 6.2 or later");
		return -EOPNOTSUPP;
	}
	return 0;
}
