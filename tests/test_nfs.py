# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The real-world case: nfs-ganesha serves a root-only file, and a uid-1000
process reads it with libnfs's nfs-cat by asserting uid 0 over AUTH_SYS.

Without nfsguard the read succeeds: the hole the EFS guide describes. With
nfsguard on the client's cgroup it fails at once and prints nothing of the
file, while root's read still works.
"""
import contextlib
import os
import tempfile
import time

from fixtures import Agent, Cgroup, Netns, UNPRIV, client, require_feature
from ganesha import GaneshaServer
from harness import Row, case, check, check_eq, table

# nfs-cat gives up at once on EPERM; a hang would take minutes. This bound
# only tells the two apart (speed belongs to 'make bench').
PROMPT_S = 5


class Env:
    def __init__(self, stack):
        self.stack = stack
        self.netns = stack.enter_context(Netns())
        self.cgroup = stack.enter_context(Cgroup())
        work = stack.enter_context(tempfile.TemporaryDirectory())
        self.server = stack.enter_context(
            GaneshaServer(self.netns.name, os.path.join(work, "ganesha")))
        self.agent = None

    def start_agent(self):
        if not self.agent:
            self.agent = self.stack.enter_context(
                Agent(["--cgroup", self.cgroup.rel, "--json"]))

    def cat(self, uid):
        t0 = time.monotonic()
        r = client(self.netns, self.cgroup,
                   self.server.nfs_cat_cmd(uid=0, gid=0), uid=uid)
        return r, time.monotonic() - t0

    def finish(self):
        if self.agent:
            self.agent.stop()


@contextlib.contextmanager
def setup():
    with contextlib.ExitStack() as stack:
        yield Env(stack)


def hole_without_agent(env):
    r, _ = env.cat(UNPRIV)
    check(env.server.matches_secret(r.stdout),
          f"uid 1000 asserting uid 0 should read the file without nfsguard: "
          f"{r.stdout!r} {r.stderr!r}")


def unpriv_refused_with_agent(env):
    env.start_agent()
    r, took = env.cat(UNPRIV)
    check(r.returncode != 0, "nfs-cat must fail")
    check(env.server.secret not in r.stdout + r.stderr,
          "nothing of the file may be printed")
    check(took < PROMPT_S, f"nfs-cat took {took:.1f}s: it must fail at once")

    def later(env):
        ev = [e for e in env.agent.events() if e["comm"] == "nfs-cat"]
        check(ev, "a refusal event for nfs-cat")
        for e in ev:
            check_eq((e["uid"], e["daddr"], e["dport"], e["verdict"]),
                     (UNPRIV, env.server.addr, 2049, "refused"), "event")
    return later


def root_reads_with_agent(env):
    env.start_agent()
    r, _ = env.cat(None)
    check(env.server.matches_secret(r.stdout),
          f"root's read must still work: {r.stdout!r} {r.stderr!r}")


table("nfs_ganesha", setup, [
    Row("unpriv_reads_root_file_without_nfsguard", hole_without_agent),
    Row("unpriv_refused_with_nfsguard", unpriv_refused_with_agent),
    Row("root_reads_with_nfsguard", root_reads_with_agent),
])


@case
def trace_shows_root_nfs_read_established_and_closed():
    require_feature("tracing")
    with contextlib.ExitStack() as stack:
        e = Env(stack)
        agent = Agent(["--cgroup", e.cgroup.rel, "--json"])
        agent.argv[1] = "trace"
        stack.enter_context(agent)
        r, _ = e.cat(None)
        check(e.server.matches_secret(r.stdout), f"root's read: {r.stderr!r}")
        agent.stop()
        ev = [x for x in agent.events() if x.get("comm") == "nfs-cat"]
        est = [x for x in ev if x.get("outcome") == "established"]
        check(est, f"an established record for nfs-cat: {ev}")
        check_eq((est[0]["daddr"], est[0]["dport"], est[0]["uid"]),
                 (e.server.addr, 2049, 0), "the connection")
        check(0 < est[0]["latency_us"] < 1_000_000,
              f"latency {est[0]['latency_us']} us")
        close = [x for x in ev if x["type"] == "close" and
                 x["cookie"] == est[0]["cookie"]]
        check(close and close[0]["bytes_received"] > len(e.server.secret),
              f"a close record with the bytes read: {close}")
