# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The agent's command line and lifecycle, against the real kernel.

Bad input gets a clear error and a non-zero exit, and leaves the policy an
agent already enforces in place. SIGTERM and SIGINT detach everything.
Both cgroup layouts (hybrid and unified-only) work.
"""
import contextlib
import os
import signal
import subprocess
import time

from fixtures import (Agent, Cgroup, NFS_PORT, Netns, UNPRIV, attached_progs,
                      connect, nfsguard, prog_exists, progs_of)
from harness import Row, case, check, check_eq, table

V4 = "127.0.0.1"
HOOKS = ["nfsg_connect4", "nfsg_connect6", "nfsg_egress", "nfsg_sendmsg4",
         "nfsg_sendmsg6"]
WATCHERS = ["nfsg_cg_mkdir", "nfsg_cg_rmdir"]

# Shell prologues run in a private mount namespace (unshare -m) before the
# agent: they take away, or rearrange, what the agent depends on.
UNMOUNT_CGROUP2 = (
    'for m in $(awk \'$3 == "cgroup2" {print $2}\' /proc/mounts | sort -r); '
    'do umount -l "$m" || exit 99; done')
NO_BTF = "mount -t tmpfs none /sys/kernel/btf || exit 99"
LAYOUT_UNIFIED = (
    "umount -l /sys/fs/cgroup 2>/dev/null; "
    "mount -t cgroup2 none /sys/fs/cgroup || exit 99")
LAYOUT_HYBRID = (
    "umount -l /sys/fs/cgroup 2>/dev/null; "
    "mount -t tmpfs none /sys/fs/cgroup && "
    "mkdir /sys/fs/cgroup/unified /sys/fs/cgroup/cpu && "
    "mount -t cgroup2 none /sys/fs/cgroup/unified || exit 99")


def in_mount_ns(prologue):
    """argv prefix: run the rest after prologue, in a new mount namespace."""
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            prologue + ' && exec "$@"', "sh"]


def run_cli(args, uid=None, wrap=()):
    argv = list(wrap)
    if uid is not None:
        argv += ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                 "--clear-groups"]
    return subprocess.run(argv + [nfsguard()] + list(args),
                          capture_output=True, text=True, timeout=30)


class Enforcing:
    """An agent enforcing on a test cgroup while bad commands are tried."""

    def __init__(self, stack):
        self.netns = stack.enter_context(Netns())
        self.cgroup = stack.enter_context(Cgroup())
        self.agent = stack.enter_context(
            Agent(["--cgroup", self.cgroup.rel, "--json"]))

    def finish(self):
        pass


@contextlib.contextmanager
def enforcing():
    with contextlib.ExitStack() as stack:
        yield Enforcing(stack)


def bad(args, status, *words, uid=None, wrap=(), one_line=True):
    def act(env):
        argv = [a.format(cgroup=env.cgroup) for a in args]
        r = run_cli(argv, uid=uid, wrap=wrap)
        check(r.returncode != 99, f"test set-up failed: {r.stderr!r}")
        check_eq(r.returncode, status, f"exit status ({r.stderr.strip()!r})")
        lines = r.stderr.strip().splitlines()
        check(lines, "no error message")
        if one_line:
            check_eq(len(lines), 1, f"error lines in {r.stderr!r}")
        for w in words:
            check(w in lines[0], f"{w!r} not in {lines[0]!r}")
        check_eq(r.stdout, "", "stdout of a failed start")
    return act


def still_enforcing(env):
    r = connect(env.netns, env.cgroup, V4, NFS_PORT, uid=UNPRIV)
    check_eq(r["result"], "EPERM", "uid 1000 after the bad commands")
    check(env.agent.proc.poll() is None, "the running agent exited")


table("bad_input", enforcing, [
    Row("unknown_option", bad(["run", "--bogus"], 64, "unrecognized option",
                              one_line=False)),
    Row("extra_argument", bad(["run", "extra"], 64, "unexpected argument",
                              one_line=False)),
    Row("empty_cgroup", bad(["run", "--cgroup", ""], 64, "needs a path",
                            one_line=False)),
    Row("no_command", bad([], 64, "no command", one_line=False)),
    Row("unknown_command", bad(["frobnicate"], 64, "unknown command",
                               "--help")),
    Row("missing_cgroup", bad(["run", "--cgroup", "/nfsg-no-such-cgroup"], 1,
                              "does not exist", "create it")),
    Row("cgroup_is_a_file", bad(["run", "--cgroup",
                                 "{cgroup.rel}/cgroup.procs"], 1,
                                "not a cgroup2 directory")),
    Row("not_root", bad(["run"], 1, "missing privileges", "run as root",
                        uid=UNPRIV)),
    Row("no_btf", bad(["run"], 1, "no kernel BTF", "CONFIG_DEBUG_INFO_BTF",
                      wrap=in_mount_ns(NO_BTF))),
    Row("no_cgroup2", bad(["run"], 1, "no cgroup2 file system",
                          "mount -t cgroup2",
                          wrap=in_mount_ns(UNMOUNT_CGROUP2))),
    Row("running_policy_untouched", still_enforcing),
])


def stop_detaches(sig):
    def fn():
        with Netns() as ns, Cgroup() as cg:
            with Agent(["--cgroup", cg.rel]) as agent:
                check_eq(sorted(attached_progs(cg)), HOOKS, "attached")
                loaded = progs_of(agent.proc.pid)
                check_eq(sorted(loaded), sorted(HOOKS + WATCHERS), "loaded")
                r = connect(ns, cg, V4, NFS_PORT, uid=UNPRIV)
                check_eq(r["result"], "EPERM", "while the agent runs")
                check_eq(agent.stop(sig), 0, "exit status")
                check_eq(attached_progs(cg), {}, "programs still attached")
                # The kernel frees tracing programs after an RCU grace
                # period: give it a few seconds.
                for _ in range(100):
                    left = {n: i for n, i in loaded.items() if prog_exists(i)}
                    if not left:
                        break
                    time.sleep(0.05)
                check_eq(left, {}, "programs still loaded")
                r = connect(ns, cg, V4, NFS_PORT, uid=UNPRIV)
                check(r["result"] != "EPERM", "refused after the agent left")
    fn.__name__ = f"{signal.Signals(sig).name.lower()}_detaches_everything"
    return fn


case(stop_detaches(signal.SIGTERM))
case(stop_detaches(signal.SIGINT))


@case
def text_output_for_people():
    with Netns() as ns, Cgroup() as cg:
        with Agent(["--cgroup", cg.rel]) as agent:
            r = connect(ns, cg, "::1", NFS_PORT, uid=UNPRIV)
            check_eq(agent.stop(), 0, "exit status")
        check(agent.out and agent.out[0].split()[:3] == ["TIME", "PID", "COMM"],
              f"header: {agent.out[:1]}")
        rows = [l.split() for l in agent.out[1:]]
        mine = [row for row in rows if row[1] == str(r["pid"])]
        check_eq(len(mine), 1, f"rows for pid {r['pid']} in {agent.out}")
        row = mine[0]
        check_eq(row[2:9], ["nfsg-connect", str(UNPRIV), "::1",
                            str(NFS_PORT), "refused", "default", cg.rel],
                 "text row")
        check_eq(len(row), 9, "columns")
        # The fixed columns fit in 80; the cgroup path comes last.
        for line in agent.out:
            fixed = line.rsplit(" ", 1)[0]
            check(len(fixed) < 80, f"{len(fixed)} columns: {line!r}")


def layout(prologue, name):
    def fn():
        with Netns() as ns, Cgroup() as cg:
            wrap = in_mount_ns(prologue)
            with Agent(["--cgroup", cg.rel, "--json"], wrap=wrap) as agent:
                check(any(cg.rel in l for l in agent.err),
                      f"agent names its cgroup: {agent.err}")
                r = connect(ns, cg, V4, NFS_PORT, uid=UNPRIV)
                check_eq(r["result"], "EPERM", "uid 1000 to 2049")
                check_eq(agent.stop(), 0, "exit status")
            ev = [e for e in agent.events() if e["pid"] == r["pid"]]
            check_eq([e["cgroup"] for e in ev], [cg.rel], "event cgroup path")
    fn.__name__ = name
    return fn


case(layout(LAYOUT_UNIFIED, "unified_cgroup_layout"))
case(layout(LAYOUT_HYBRID, "hybrid_cgroup_layout"))


@case
def nested_cgroup_is_governed_by_its_ancestor():
    with Netns() as ns, Cgroup() as parent, Cgroup(parent) as child:
        with Agent(["--cgroup", parent.path, "--json"]) as agent:
            r = connect(ns, child, V4, NFS_PORT, uid=UNPRIV)
            check_eq(r["result"], "EPERM", "uid 1000 in a child cgroup")
            agent.stop()
        ev = [e for e in agent.events() if e["pid"] == r["pid"]]
        check_eq([e["cgroup"] for e in ev], [child.rel],
                 "the socket's own cgroup is reported")
