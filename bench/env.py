# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The bench's real resources, each a context manager that cleans up.

One network namespace (traffic stays on its loopback, firewall rules live
in it), the bench's cgroups under the cgroup2 mount (programs attach to
them, clients run in them), the sink that serves every workload, sysctls
restored on exit, and daemons (the agent, the null program's loader)
stopped on exit.
Names carry the runner's pid, so that a leftover is easy to attribute.
"""
import json
import os
import signal
import subprocess
import time

UNPRIV = 1000           # the unprivileged uid that the rule is about
GOVERNED_PORT = 2049    # governed by the default policy
OPEN_PORT = 5001        # governed by nothing
V4, V6 = "127.0.0.1", "::1"


class BenchError(Exception):
    """A one-line reason to stop the bench (after cleaning up)."""


def sh(*argv, check=True, input=None, timeout=60):
    """Run a command; on failure raise BenchError with its last words."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, input=input,
                           timeout=timeout)
    except FileNotFoundError:
        raise BenchError(f"{argv[0]} is not installed: run 'make bench', "
                         "which installs what it needs")
    except subprocess.TimeoutExpired:
        raise BenchError(f"'{' '.join(argv[:4])}' took over {timeout} s")
    if check and r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["no message"])[-1]
        raise BenchError(f"'{' '.join(argv[:6])}' failed: {why}")
    return r


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return fields[1]
    raise BenchError("no cgroup2 file system is mounted: mount one, "
                     "e.g. mount -t cgroup2 none /sys/fs/cgroup/unified")


class Netns:
    """A network namespace with lo up; its own sysctls restored on exit."""

    def __init__(self, suffix=""):
        self.name = f"nfsg-bench-{os.getpid()}{suffix}"
        self.exec = ["ip", "netns", "exec", self.name]
        self._saved = {}

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        try:
            sh("ip", "-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def sysctl(self, key, value):
        """Set a per-namespace sysctl (restored on exit); the old value."""
        old = sh(*self.exec, "sysctl", "-n", key).stdout.strip()
        self._saved.setdefault(key, old)
        sh(*self.exec, "sysctl", "-qw", f"{key}={value}")
        return old

    def restore(self, key):
        """Put back what sysctl() changed."""
        if key in self._saved:
            sh(*self.exec, "sysctl", "-qw", f"{key}={self._saved.pop(key)}")

    def __exit__(self, *exc):
        for key, value in self._saved.items():
            sh(*self.exec, "sysctl", "-qw", f"{key}={value}", check=False)
        for pid in sh("ip", "netns", "pids", self.name,
                      check=False).stdout.split():
            _kill(int(pid))
        sh("ip", "netns", "del", self.name, check=False)


class Cgroup:
    """A cgroup below the cgroup2 mount (never the mount itself), with
    `children` numbered sub-cgroups c000000, c000001, ... made at once."""

    def __init__(self, parent, name, children=0):
        self.mount = cgroup2_mount()
        self.path = os.path.join(parent or self.mount, name)
        self.rel = "/" + os.path.relpath(self.path, self.mount)
        self.children = [os.path.join(self.path, f"c{i:06d}")
                         for i in range(children)]

    def __enter__(self):
        try:
            os.mkdir(self.path)
            for child in self.children:
                os.mkdir(child)
        except OSError as e:
            self.__exit__()
            raise BenchError(f"cannot create cgroup {e.filename}: "
                             f"{e.strerror}")
        return self

    def child(self, i):
        """Sub-cgroup i, as a Cgroup that is not created or removed."""
        return Cgroup(self.path, os.path.basename(self.children[i]))

    def join(self):
        """For preexec_fn: move the calling process into this cgroup."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0")

    def __exit__(self, *exc):
        for path in self.children[::-1] + [self.path]:
            _remove_cgroup(path)


def _remove_cgroup(path):
    """Remove the cgroup, killing what is left in it, retrying a while."""
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            pass
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                for pid in f.read().split():
                    _kill(int(pid))
        except FileNotFoundError:
            return
        time.sleep(0.05)
    raise BenchError(f"cannot remove cgroup {path}: remove it by hand once "
                     "its processes are gone")


class Sysctl:
    """A host sysctl set for a while and restored on exit."""

    def __init__(self, key, value):
        self.path = "/proc/sys/" + key.replace(".", "/")
        self.key, self.value, self.old = key, str(value), None

    def __enter__(self):
        try:
            with open(self.path) as f:
                self.old = f.read().strip()
            self._write(self.value)
        except OSError as e:
            raise BenchError(f"cannot set {self.key}: {e.strerror}")
        return self

    def _write(self, value):
        with open(self.path, "w") as f:
            f.write(value)

    def __exit__(self, *exc):
        if self.old is None:
            return
        try:
            self._write(self.old)
        except OSError as e:
            raise BenchError(f"cannot restore {self.key} to {self.old}: "
                             f"{e.strerror}: set it by hand")


class Daemon:
    """A long-running process that says on stderr when it is ready.

    Its stdout and stderr go to files in workdir. stop() sends SIGTERM and
    returns (exit status, stderr text).
    """

    def __init__(self, argv, ready, workdir, stem):
        self.argv, self.ready = argv, ready
        self.out_path = os.path.join(workdir, stem + ".out")
        self.err_path = os.path.join(workdir, stem + ".err")
        self.proc = None

    def start(self, timeout=30):
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready in self.stderr():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        last = (self.stderr().strip().splitlines() or ["no message"])[-1]
        self.stop()
        raise BenchError(f"{os.path.basename(self.argv[0])} did not start: "
                         f"{last}")

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, timeout=10):
        if self.proc is None:
            return None, ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc, self.stderr()


class Env:
    """Everything a measurement needs: namespace, cgroups, sink, tools.

    root is the bench's own cgroup under the cgroup2 mount; clients run in
    its child `work` unless told otherwise, and conditions attach there.
    """

    def __init__(self, stack, build, workdir):
        self.build, self.workdir = build, workdir
        self.cpus = sorted(os.sched_getaffinity(0))
        self.ncpu = len(self.cpus)
        # Clients on the first CPU, the sink on the last (the same on one).
        self.client_cpu, self.sink_cpu = self.cpus[0], self.cpus[-1]
        self.netns = stack.enter_context(Netns())
        # Room for the connects the sink has not accepted yet: a full
        # accept queue drops SYNs, and a dropped SYN waits a second.
        self.netns.sysctl("net.core.somaxconn", 65535)
        self.root = stack.enter_context(
            Cgroup(None, f"nfsg-bench-{os.getpid()}"))
        self.work = stack.enter_context(Cgroup(self.root.path, "work"))
        specs = [f"{a}:{p}" for a in (V4, f"[{V6}]")
                 for p in (GOVERNED_PORT, OPEN_PORT)]
        stack.enter_context(Sink(self, specs))
        # A second namespace, with a sink of its own, for a firewall rule
        # measured in turns with conditions of the first: a rule is
        # namespace-wide, a cgroup program is not.
        self.netns2 = stack.enter_context(Netns("-b"))
        self.netns2.sysctl("net.core.somaxconn", 65535)
        stack.enter_context(Sink(self, specs, self.netns2))

    def tool(self, name):
        return os.path.join(self.build, "bench", name)

    def _wrap(self, argv, uid, netns=None):
        wrap = list((netns or self.netns).exec)
        if uid:
            wrap += ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                     "--clear-groups"]
        return wrap + argv

    def spawn(self, name, args, uid=None, cpu=None, cgroup=None,
              stdin=subprocess.DEVNULL, netns=None):
        """Start a bench tool in the namespace (default: the first), as
        uid, pinned to cpu, in cgroup (default: work; False: stay in the
        runner's own)."""
        argv = self._wrap([self.tool(name)] + [str(a) for a in args], uid,
                          netns)
        where = self.work if cgroup is None else cgroup

        def setup():
            if where:
                where.join()
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=setup)
        proc.tool = name
        return proc

    def result(self, proc, timeout):
        """Wait for a spawned tool; its JSON line, or BenchError."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise BenchError(f"{proc.tool} did not finish in {timeout} s")
        if proc.returncode != 0:
            why = (err.strip().splitlines() or ["no message"])[-1]
            raise BenchError(f"{proc.tool} failed (exit {proc.returncode}): "
                             f"{why}")
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise BenchError(f"{proc.tool} printed {out!r}, not a JSON line")

    def run(self, name, args, uid=None, cgroup=None, timeout=120,
            netns=None):
        """Run a bench tool on the client CPU; its JSON result."""
        proc = self.spawn(name, args, uid, self.client_cpu, cgroup,
                          netns=netns)
        return self.result(proc, timeout)


class Sink:
    """The sink tool, serving every workload from its own CPU."""

    def __init__(self, env, specs, netns=None):
        self.env, self.specs, self.proc = env, specs, None
        self.netns = netns

    def __enter__(self):
        self.proc = self.env.spawn("sink", self.specs, cpu=self.env.sink_cpu,
                                   cgroup=False, netns=self.netns)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.wait()
            err = self.proc.stderr.read().strip()
            self.__exit__()
            raise BenchError(f"the sink did not start: {err}")
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate()


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
