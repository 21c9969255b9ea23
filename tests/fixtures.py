# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Real resources for the tests, each a context manager that cleans up.

Network namespaces, cgroups under the cgroup2 mount, listeners, the agent
and clients run for real; nothing here mocks the kernel. Names carry the
runner's pid so that a leftover is easy to attribute.
"""
import ctypes
import itertools
import json
import os
import signal
import shutil
import subprocess
import tempfile
import threading
import time

from harness import Skip

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("NFSG_BUILD", os.path.join(HERE, "..", "build"))
PYTHON = "/usr/bin/python3"
UNPRIV = 1000
CONTROL_PORT = 3049
NFS_PORT = 2049

_seq = itertools.count()


def nfsguard():
    return os.path.join(BUILD, "nfsguard")


def connect_helper():
    return os.path.join(BUILD, "tests", "nfsg-connect")


def unique(stem):
    return f"nfsg-{stem}-{os.getpid()}-{next(_seq)}"


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    raise RuntimeError("no cgroup2 mount in /proc/mounts")


def sh(*argv, check=True, **kw):
    return subprocess.run(argv, check=check, capture_output=True, text=True,
                          **kw)


class Netns:
    """A network namespace with lo up (and optional extra lo addresses)."""

    def __init__(self, lo_addrs=()):
        self.name = unique("ns")
        self.lo_addrs = lo_addrs

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        try:
            sh("ip", "-n", self.name, "link", "set", "lo", "up")
            for a in self.lo_addrs:
                sh("ip", "-n", self.name, "addr", "add", a, "dev", "lo")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        pids = sh("ip", "netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        sh("ip", "netns", "del", self.name, check=False)


class Cgroup:
    """A cgroup under the cgroup2 mount (never its root)."""

    def __init__(self, parent=None, name=None):
        base = parent.path if parent else cgroup2_mount()
        self.name = name or unique("cg")
        self.path = os.path.join(base, self.name)
        self.rel = "/" + os.path.relpath(self.path, cgroup2_mount())

    def __enter__(self):
        os.mkdir(self.path)
        return self

    def join(self):
        """For preexec_fn: move the calling process into this cgroup."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0")

    def __exit__(self, *exc):
        for _ in range(50):
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    pids = f.read().split()
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"cannot remove cgroup {self.path}")


class Listener:
    """Accept-and-close TCP listeners inside a netns."""

    def __init__(self, netns, specs):
        self.argv = ["ip", "netns", "exec", netns.name, PYTHON,
                     os.path.join(HERE, "listener.py")] + list(specs)
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__(None, None, None)
            raise RuntimeError("listener did not start")
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
            self.proc.stdout.close()


class Agent:
    """build/nfsguard run, with its output collected by reader threads.
    Each agent serves its own control socket (self.control), so that
    agents of concurrent runs never meet."""

    def __init__(self, args, wrap=(), ready="enforcing on cgroup"):
        self.ctl_dir = tempfile.mkdtemp(prefix="nfsg-ctl-")
        self.control = os.path.join(self.ctl_dir, "control")
        self.argv = (list(wrap) + [nfsguard(), "run"] + list(args)
                     + ["--control", self.control])
        self.ready = ready
        self.proc = None
        self.out, self.err = [], []
        self._ready = threading.Event()

    def _read(self, stream, sink, watch):
        for line in stream:
            sink.append(line.rstrip("\n"))
            if watch and self.ready in line:
                self._ready.set()
        self._ready.set()  # EOF: no point waiting any longer

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._threads = [
            threading.Thread(target=self._read,
                             args=(self.proc.stdout, self.out, False)),
            threading.Thread(target=self._read,
                             args=(self.proc.stderr, self.err, True)),
        ]
        for t in self._threads:
            t.daemon = True
            t.start()
        # Loading is verification: minutes under emulation (a kernel-matrix
        # guest under TCG on a loaded host); a start that fails ends sooner.
        self._ready.wait(120)
        if not any(self.ready in line for line in self.err):
            self.__exit__(None, None, None)
            raise AssertionError("agent did not start: " + " | ".join(self.err))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal the agent and wait; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for t in self._threads:
            t.join(5)
        return rc

    def events(self):
        return [json.loads(line) for line in self.out if line.startswith("{")]

    def cli(self, *args, uid=None, timeout=60):
        """An nfsguard command that talks to this agent's socket."""
        wrap = []
        if uid is not None:
            wrap = ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                    "--clear-groups"]
        return subprocess.run(wrap + [nfsguard(), args[0], "--control",
                                      self.control] + list(args[1:]),
                              capture_output=True, text=True, timeout=timeout)

    def status(self):
        r = self.cli("status", "--json")
        if r.returncode != 0:
            raise AssertionError(f"status exit {r.returncode}: {r.stderr}")
        return json.loads(r.stdout)

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.stop(signal.SIGKILL)
        shutil.rmtree(self.ctl_dir, ignore_errors=True)


_FEATURES = {}


def kernel_feature(name):
    """Does nfsguard use feature name (see 'nfsguard probe') on this
    kernel? Probed once per run."""
    if not _FEATURES:
        r = subprocess.run([nfsguard(), "probe", "--json"],
                           capture_output=True, text=True, timeout=60)
        for f in json.loads(r.stdout)["features"]:
            _FEATURES[f["name"]] = f
    return _FEATURES[name]["in_use"]


def require_feature(name):
    """Skip the case where the kernel lacks feature name, saying why."""
    if not kernel_feature(name):
        f = _FEATURES[name]
        raise Skip(f"this kernel lacks {f['what']} (Linux {f['since']}): "
                   f"{f.get('without', '')}")


def client(netns, cgroup, argv, uid=None, timeout=30):
    """Run argv inside the netns and cgroup, as uid (with gid uid, no
    supplementary groups) when given."""
    wrap = ["ip", "netns", "exec", netns.name]
    if uid is not None:
        wrap += ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                 "--clear-groups"]
    return subprocess.run(wrap + list(argv), capture_output=True, text=True,
                          timeout=timeout,
                          preexec_fn=cgroup.join if cgroup else None)


def connect(netns, cgroup, addr, port, uid=None, extra=(), helper=None,
            timeout=30):
    """One nfsg-connect attempt; returns its JSON report."""
    r = client(netns, cgroup, [helper or connect_helper(), addr, str(port)]
               + list(extra), uid=uid, timeout=timeout)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise AssertionError(f"nfsg-connect said {r.stdout!r} {r.stderr!r}")


HOOK_NAMES = ("nfsg_connect4", "nfsg_connect6", "nfsg_sendmsg4", "nfsg_sendmsg6",
              "nfsg_egress")


def hook_name(name):
    """A hook program's name whatever its build: nfsg_connect4_p (probed
    reads) and nfsg_connect4_l (no atomics) are nfsg_connect4."""
    base, _, suffix = name.rpartition("_")
    return base if base in HOOK_NAMES and suffix in ("p", "l") else name


# bpf(2) as the tests need it: BPF_PROG_QUERY of the cgroup hooks. bpftool's
# 'cgroup show' gives up on some kernels (5.10) when an attach type it also
# asks about is unknown there.
_BPF_PROG_QUERY = 16
_SYS_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
# Every cgroup attach type from BPF_CGROUP_INET_INGRESS (0) to
# BPF_CGROUP_SETSOCKOPT (22); the others are not cgroup hooks.
_CGROUP_ATTACH_TYPES = range(0, 23)


class _QueryAttr(ctypes.Structure):
    _fields_ = [("target_fd", ctypes.c_uint32), ("attach_type", ctypes.c_uint32),
                ("query_flags", ctypes.c_uint32), ("attach_flags", ctypes.c_uint32),
                ("prog_ids", ctypes.c_uint64), ("prog_cnt", ctypes.c_uint32),
                ("_pad", ctypes.c_uint8 * 108)]


def attached_ids_of(path):
    """{program id: name} attached (not inherited) to the cgroup at path,
    on every cgroup hook; hooks by their build-independent name."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    ids = []
    try:
        for t in _CGROUP_ATTACH_TYPES:
            buf = (ctypes.c_uint32 * 64)()
            attr = _QueryAttr(target_fd=fd, attach_type=t,
                              prog_ids=ctypes.addressof(buf), prog_cnt=64)
            if libc.syscall(_SYS_BPF, _BPF_PROG_QUERY, ctypes.byref(attr),
                            ctypes.sizeof(attr)) == 0:
                ids += list(buf[:attr.prog_cnt])
    finally:
        os.close(fd)
    out = {}
    for i in ids:
        r = sh("bpftool", "-j", "prog", "show", "id", str(i), check=False)
        if r.returncode == 0:
            out[i] = hook_name(json.loads(r.stdout)["name"])
    return out


def attached_progs(cgroup):
    """{program name: id} attached to the cgroup; hooks by their
    build-independent name (hook_name)."""
    return {name: i for i, name in attached_ids_of(cgroup.path).items()}


def progs_of(pid):
    """{program name: id} of the BPF programs process pid holds fds of."""
    ids = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except FileNotFoundError:
            continue
    names = {}
    for i in ids:
        r = sh("bpftool", "-j", "prog", "show", "id", str(i))
        names[hook_name(json.loads(r.stdout)["name"])] = i
    return names


def prog_exists(prog_id):
    return sh("bpftool", "prog", "show", "id", str(prog_id),
              check=False).returncode == 0
