# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The bench tools as functions, and the kernel's per-program statistics.

Every client runs inside the bench's namespace, in a cgroup of the bench,
pinned to the client CPU; the sink serves it from the other CPU.
"""
import contextlib
import json
import os
import subprocess

from env import BenchError, GOVERNED_PORT, V4, sh


def cycle(env, port, uid, seconds, expect="ok", samples=0, cgroup=None):
    """socket+connect+close cycles to V4:port; every connect must end as
    expect says. {"cycles", "ns", "median_ns_per_cycle", with samples
    "p50_ns", ...}"""
    args = ["-t", seconds, "-e", expect]
    if samples:
        args += ["-s", samples]
    return env.run("cycle", args + [V4, port], uid=uid, cgroup=cgroup)


def stream(env, seconds, cgroup=None):
    """Bulk throughput, root to the governed port: {"median_gbit_s", ...}."""
    return env.run("stream", ["-t", seconds, V4, GOVERNED_PORT],
                   cgroup=cgroup)


def rr(env, seconds, cgroup=None):
    """64-byte request/response, root to the governed port:
    {"median_ns_per_txn", ...}."""
    return env.run("rr", ["-t", seconds, V4, GOVERNED_PORT], cgroup=cgroup)


def probe(env, addr, port, uid, wait_ms, cgroup=None):
    """One attempt: {"result", "elapsed_us"}."""
    return env.run("probe", ["-w", wait_ms, addr, port], uid=uid,
                   cgroup=cgroup, timeout=wait_ms / 1000 + 60)


def prog_stats(prog_id):
    """(run_time_ns, run_cnt) of a program; needs kernel.bpf_stats_enabled."""
    info = json.loads(sh("bpftool", "-j", "prog", "show", "id",
                         str(prog_id)).stdout)
    return info.get("run_time_ns", 0), info.get("run_cnt", 0)


def program_cost(prog_id, run):
    """Run the cycle workload run(); (ns per program run, its result).

    Each connect runs the connect4 program exactly once: a run count that
    differs from the cycles made means the program did not see them all.
    """
    ns0, cnt0 = prog_stats(prog_id)
    r = run()
    ns1, cnt1 = prog_stats(prog_id)
    runs = cnt1 - cnt0
    if runs != r["cycles"]:
        raise BenchError(f"program {prog_id} ran {runs} times for "
                         f"{r['cycles']} connects")
    return (ns1 - ns0) / runs, r


class Worker:
    """A bench tool in lockstep: one chunk of work per turn(), which
    returns the line the tool printed for it."""
    tool = ""

    def __init__(self, env, args, uid, cgroup, netns=None):
        self.env, self.cgroup, self.netns = env, cgroup, netns
        self.args, self.uid, self.proc = args, uid, None

    def __enter__(self):
        self.proc = self.env.spawn(self.tool, self.args, self.uid,
                                   self.env.client_cpu, self.cgroup,
                                   stdin=subprocess.PIPE, netns=self.netns)
        return self

    def line(self):
        try:
            self.proc.stdin.write("x")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.proc.wait()
            why = (self.proc.stderr.read().strip().splitlines()
                   or ["no message"])[-1]
            raise BenchError(f"a lockstep {self.tool} worker stopped: {why}")
        return line

    def __exit__(self, *exc):
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class Lockstep(Worker):
    """A `cycle -l` worker in a cgroup: one chunk of `chunk` connect cycles
    to V4:port per turn(), which returns that chunk's ns per cycle; with
    evict_mib, each connect meets its data cold (see cycle.c)."""
    tool = "cycle"

    def __init__(self, env, port, uid, expect, cgroup, netns=None,
                 chunk=64, evict_mib=0):
        args = ["-l", "-e", expect, "-n", chunk]
        if evict_mib:
            args += ["-x", evict_mib]
        super().__init__(env, args + [V4, port], uid, cgroup, netns)
        self.chunk = chunk

    def turn(self):
        return float(self.line())


class Bulk(Worker):
    """A `bulk` worker in a cgroup, both ends of its connection on the
    client CPU: per turn(), (CPU ns, wall ns, units) of one chunk, units
    being MiB or, with rr, 64-byte transactions."""
    tool = "bulk"

    def __init__(self, env, cgroup, rr=False, units=64):
        cpu = env.client_cpu
        args = (["-r"] if rr else []) + ["-n", units, "-c", f"{cpu},{cpu}",
                                         V4]
        super().__init__(env, args, None, cgroup)

    def turn(self):
        cpu, wall, units = self.line().split()
        return int(cpu), int(wall), int(units)


class Ksoftirqd:
    """CPU time of the ksoftirqd threads (ns, from schedstat): softirq
    work that left the task that raised it."""

    def __init__(self):
        self.paths = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().startswith("ksoftirqd/"):
                        self.paths.append(f"/proc/{pid}/schedstat")
            except OSError:
                continue

    def ns(self):
        total = 0
        for path in self.paths:
            with open(path) as f:
                total += int(f.read().split()[0])
        return total


def softirq_ticks():
    """The softirq column of /proc/stat's cpu line (USER_HZ ticks)."""
    with open("/proc/stat") as f:
        return int(f.readline().split()[7])
