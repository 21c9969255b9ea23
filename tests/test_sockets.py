# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Existing connections (TCP, and connected UDP where a policy governs
UDP): opened before the agent (or before a reload made them violations),
listed, reported as events of type existing, and aborted where the policy
says existing = destroy or by 'nfsguard sockets --destroy'. All real: the test's own network namespaces, cgroup and a real
uid 1000. Every case runs on both paths this kernel offers: the iterator
(judged by the kernel's decision) and the sock_diag dump (forced with
NFSG_TEST_NO_SOCK_ITER); a path the kernel lacks is a skip with its
reason.
"""
import contextlib
import json
import os
import subprocess
import tempfile
import time

from fixtures import (Agent, Cgroup, HERE, NFS_PORT, Netns, PYTHON, UNPRIV,
                      connect, nfsguard)
from harness import Skip, case, check, check_eq

V4 = "127.0.0.1"
HOLDER = os.path.join(HERE, "holder.py")
# An abort must show at the owner's next read or write, not after a timeout.
ABORTED = ("ECONNABORTED", "ECONNRESET", "EPIPE")


def probe():
    r = subprocess.run([nfsguard(), "probe", "--json"], capture_output=True,
                       text=True, timeout=60)
    return json.loads(r.stdout)


def paths():
    """The listing paths to run, each with the env that forces it."""
    p = probe()
    feats = {f["name"]: f for f in p["features"]}
    out = [("sock_diag", {"NFSG_TEST_NO_SOCK_ITER": "1"})]
    if feats["socket_iter"]["available"]:
        out.insert(0, ("iterator", {}))
    if feats["sock_destroy"]["available"]:
        # The iterator lists, sock_diag aborts: what 5.10 to 6.4 run.
        out.append(("iterator", {"NFSG_TEST_NO_SOCK_DESTROY": "1"}))
    return out, p


class Holder:
    """One end of a TCP connection held open, in netns and cgroup, as
    uid; ping() proves it still carries data."""

    def __init__(self, netns, cgroup, port, uid=None, mode="connect"):
        wrap = ["ip", "netns", "exec", netns.name]
        if uid is not None:
            wrap += ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                     "--clear-groups"]
        self.proc = subprocess.Popen(
            wrap + [PYTHON, HOLDER, mode, V4, str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=cgroup.join if cgroup else None)
        line = self.proc.stdout.readline()
        if mode.endswith("listen"):
            check_eq(line.strip(), "ready", "listener")
            return
        self.info = json.loads(line)
        check("error" not in self.info, f"connect failed: {self.info}")
        self.pid = self.info["pid"]

    def ping(self):
        return self.ping_all()["result"]

    def ping_all(self):
        self.proc.stdin.write("ping\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                f.close()


class Env:
    """A namespace with an echo listener on 2049, a cgroup, and in it a
    uid-1000 connection and a root one, both opened before any agent."""

    def __init__(self, stack, n_netns=1, udp=False):
        self.stack = stack
        self.cg = stack.enter_context(Cgroup())
        self.cg_id = os.stat(self.cg.path).st_ino
        self.ns, self.user, self.root = [], [], []
        self.udp_user, self.udp_root = [], []
        for _ in range(n_netns):
            ns = stack.enter_context(Netns())
            self.ns.append(ns)
            self.hold(Holder(ns, None, NFS_PORT, mode="listen"))
            self.user.append(self.hold(Holder(ns, self.cg, NFS_PORT,
                                              uid=UNPRIV)))
            self.root.append(self.hold(Holder(ns, self.cg, NFS_PORT)))
            if not udp:
                continue
            self.hold(Holder(ns, None, NFS_PORT, mode="udp-listen"))
            self.udp_user.append(self.hold(Holder(
                ns, self.cg, NFS_PORT, uid=UNPRIV, mode="udp-connect")))
            self.udp_root.append(self.hold(Holder(
                ns, self.cg, NFS_PORT, mode="udp-connect")))
        self.tmp = stack.enter_context(tempfile.TemporaryDirectory())
        self.conf = os.path.join(self.tmp, "nfsguard.conf")

    def hold(self, h):
        self.stack.callback(h.close)
        return h

    def config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def agent(self, env, prefix=()):
        wrap = list(prefix) + ["env"] + [f"{k}={v}" for k, v in env.items()]
        return self.stack.enter_context(Agent(
            ["--cgroup", self.cg.rel, "--config", self.conf, "--json"],
            wrap=wrap))


def existing_events(agent, pid=None, want=1, timeout=10):
    """The agent's events of type existing (for pid), once want are in."""
    deadline = time.monotonic() + timeout
    while True:
        evs = [e for e in agent.events() if e.get("type") == "existing"
               and (pid is None or e["pid"] == pid)]
        if len(evs) >= want or time.monotonic() > deadline:
            return evs
        time.sleep(0.1)


def sockets(agent, *args):
    r = agent.cli("sockets", "--json", *args)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    check(lines and lines[0].get("ok"), f"sockets: {r.returncode} {r.stderr}")
    return r.returncode, lines[0], lines[1:]


def mine(rows, pid):
    return [s for s in rows if pid in s["pids"]]


def run_paths(fn):
    """Run fn(path, env, probe) on each listing path; a failure names it."""
    ps, p = paths()
    for name, env in ps:
        try:
            fn(name, env, p)
        except AssertionError as e:
            raise AssertionError(f"[{name} {env}] {e}")


@case
def listed_and_reported_at_start():
    def one(path, env, p):
        with contextlib.ExitStack() as stack:
            e = Env(stack)
            e.config("[default]\n")
            agent = e.agent(env)
            u, r = e.user[0], e.root[0]
            evs = existing_events(agent, u.pid)
            check_eq(len(evs), 1, "existing events of the uid-1000 connection")
            ev = evs[0]
            want = {"verdict": "violating", "decision": "refused",
                    "reason": "owner", "action": "reported", "uid": UNPRIV,
                    "pid": u.pid, "cgroup_id": e.cg_id, "cgroup": e.cg.rel,
                    "policy": "default", "dport": NFS_PORT,
                    "sport": u.info["sport"], "daddr": V4,
                    "state": "established", "protocol": "tcp"}
            for k, v in want.items():
                check_eq(ev.get(k), v, f"event field {k}")
            check_eq(existing_events(agent, r.pid, want=0, timeout=0), [],
                     "events of root's connection")
            rc, head, rows = sockets(agent)
            check_eq(rc, 0, "sockets exit status")
            check_eq(head["listing"], path, "listing path")
            row = mine(rows, u.pid)
            check_eq(len(row), 1, "rows of the uid-1000 connection")
            check_eq((row[0]["uid"], row[0]["verdict"], row[0]["cgroup"],
                      row[0]["type"], row[0]["netns"]),
                     (UNPRIV, "violating", e.cg.rel, "socket", ev["netns"]),
                     "uid-1000 row")
            row = mine(rows, r.pid)
            check_eq(len(row), 1, "rows of root's connection")
            check_eq((row[0]["uid"], row[0]["verdict"]), (0, "allowed"),
                     "root's row")
            check_eq(u.ping(), "ok", "a reported connection still works")
            status = agent.status()
            check_eq(status["existing"]["violating"], 1,
                     "existing connections counted in status")
    run_paths(one)


def p_feat(p, name):
    return {f["name"]: f for f in p["features"]}[name]["available"]


def needs_destroy(p):
    if p["sockets_destroy"] == "none":
        raise Skip("this kernel has neither bpf_sock_destroy (6.5) nor "
                   "CONFIG_INET_DIAG_DESTROY")


@case
def destroyed_at_start_where_configured():
    def one(path, env, p):
        needs_destroy(p)
        with contextlib.ExitStack() as stack:
            e = Env(stack)
            e.config("[default]\nexisting = destroy\n")
            agent = e.agent(env)
            u, r = e.user[0], e.root[0]
            evs = existing_events(agent, u.pid)
            check_eq([x["action"] for x in evs], ["destroyed"],
                     "actions on the uid-1000 connection")
            t0 = time.monotonic()
            res = u.ping()
            check(res in ABORTED, f"uid 1000's next write and read: {res}")
            check(time.monotonic() - t0 < 2, "the error came at once")
            check_eq(r.ping(), "ok", "root's connection still carries data")
            check_eq(agent.status()["existing"]["destroyed"], 1,
                     "destroyed counted in status")
    run_paths(one)


@case
def reload_tightening_reports_and_destroys():
    def one(path, env, p):
        needs_destroy(p)
        with contextlib.ExitStack() as stack:
            e = Env(stack)
            e.config("[default]\nprivileged_uids = 0, 1000\n"
                     "existing = destroy\n")
            agent = e.agent(env)
            u, r = e.user[0], e.root[0]
            check_eq(existing_events(agent, want=0, timeout=0), [],
                     "existing events before the reload")
            e.config("[default]\nprivileged_uids = 0\nexisting = destroy\n")
            rr = agent.cli("reload", "--json")
            check_eq(rr.returncode, 0, "reload exit status")
            evs = existing_events(agent, u.pid)
            check_eq([x["action"] for x in evs], ["destroyed"],
                     "actions after the reload")
            res = u.ping()
            check(res in ABORTED, f"uid 1000's next write and read: {res}")
            check_eq(r.ping(), "ok", "root's connection still carries data")
    run_paths(one)


@case
def sockets_destroy_by_hand_in_two_namespaces():
    def one(path, env, p):
        needs_destroy(p)
        with contextlib.ExitStack() as stack:
            e = Env(stack, n_netns=2)
            e.config("[default]\n")
            agent = e.agent(env)
            rc, head, rows = sockets(agent)
            found = [mine(rows, u.pid) for u in e.user]
            check_eq([len(f) for f in found], [1, 1],
                     "uid-1000 rows, one per namespace")
            netns = {f[0]["netns"] for f in found}
            want = {os.stat(f"/run/netns/{ns.name}").st_ino for ns in e.ns}
            check_eq(netns, want, "their network namespaces")
            rc, head, rows = sockets(agent, "--destroy")
            check_eq(rc, 0, "sockets --destroy exit status")
            check_eq(head["destroyed"], 2, "destroyed")
            check_eq(sorted(s["action"] for s in rows
                            if s["verdict"] == "violating"),
                     ["destroyed", "destroyed"], "violating rows' actions")
            for u in e.user:
                res = u.ping()
                check(res in ABORTED, f"uid 1000's next write and read: {res}")
            for r in e.root:
                check_eq(r.ping(), "ok", "root's connection still carries data")
            rc, head, rows = sockets(agent)
            check_eq([s for s in rows if s["verdict"] == "violating"], [],
                     "violating rows after --destroy")
    run_paths(one)


@case
def udp_listed_judged_and_destroyed():
    """Connected UDP sockets to 2049, where a policy governs UDP: uid
    1000's is violating and aborted by --destroy (its next send and
    receive fail at once), root's is allowed and still carries data; where
    no policy governs UDP, none is listed."""
    def one(path, env, p):
        with contextlib.ExitStack() as stack:
            e = Env(stack, udp=True)
            e.config("[default]\n")
            agent = e.agent(env)
            uu, ur = e.udp_user[0], e.udp_root[0]
            rc, head, rows = sockets(agent)
            check_eq(mine(rows, uu.pid) + mine(rows, ur.pid), [],
                     "UDP rows where only TCP is governed")
            e.config("[default]\nprotocols = tcp, udp\n")
            check_eq(agent.cli("reload", "--json").returncode, 0,
                     "reload exit status")
            evs = existing_events(agent, uu.pid)
            check_eq([(x["protocol"], x["action"]) for x in evs],
                     [("udp", "reported")], "events of uid 1000's UDP socket")
            rc, head, rows = sockets(agent)
            row = mine(rows, uu.pid)
            check_eq([(x["protocol"], x["uid"], x["verdict"], x["state"],
                       x["sport"], x["dport"], x["cgroup"]) for x in row],
                     [("udp", UNPRIV, "violating", "established",
                       uu.info["sport"], NFS_PORT, e.cg.rel)],
                     "uid 1000's UDP row")
            # The iterator names each socket by its cookie where it can
            # call bpf_get_socket_cookie (the helper "tracing" probes);
            # sock_diag always does.
            if path == "sock_diag" or p_feat(p, "tracing"):
                check(row[0]["cookie"] > 0, f"a cookie: {row[0]}")
            row = mine(rows, ur.pid)
            check_eq([(x["protocol"], x["uid"], x["verdict"]) for x in row],
                     [("udp", 0, "allowed")], "root's UDP row")
            check_eq(uu.ping(), "ok", "a reported UDP socket still works")
            needs_destroy(p)
            rc, head, rows = sockets(agent, "--destroy")
            check_eq(rc, 0, "sockets --destroy exit status")
            check_eq(sorted((x["protocol"], x["action"]) for x in rows
                            if x["verdict"] == "violating"),
                     [("tcp", "destroyed"), ("udp", "destroyed")],
                     "violating rows' actions")
            res = uu.ping_all()
            check(res["send"] != "ok" and res["recv"] not in ("ok", "timeout"),
                  f"uid 1000's next send and receive: {res}")
            check_eq(ur.ping(), "ok", "root's UDP socket still carries data")
            rc, head, rows = sockets(agent)
            check_eq(mine(rows, uu.pid), [], "uid 1000's UDP row after")
    run_paths(one)


@case
def loop_serves_during_a_walk():
    """A walk runs off the agent's loop: while one is held open (the
    reserved NFSG_TEST_WALK_GATE, a FIFO each walk reads a byte from
    before it starts), a status request is answered and a refused connect
    becomes an event, both before the walk's own answer; the walk then
    answers in full."""
    with contextlib.ExitStack() as stack:
        e = Env(stack)
        e.config("[default]\n")
        gate = os.path.join(e.tmp, "gate")
        os.mkfifo(gate)
        # Ours open for writing all along: the agent's opens never block.
        wfd = os.open(gate, os.O_RDWR)
        stack.callback(os.close, wfd)
        agent = e.agent({"NFSG_TEST_WALK_GATE": gate})
        os.write(wfd, b"g")            # the check at start
        u = e.user[0]
        check_eq(len(existing_events(agent, u.pid)), 1,
                 "the start check's event")
        held = subprocess.Popen(
            [nfsguard(), "sockets", "--json", "--control", agent.control],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stack.callback(lambda: held.poll() is None and held.kill())
        try:
            status = agent.status()
            check_eq(held.poll(), None, "the walk's answer before status's")
            check_eq(status["existing"]["violating"], 1,
                     "status during the walk")
            r = connect(e.ns[0], e.cg, V4, NFS_PORT, uid=UNPRIV)
            check_eq(r["result"], "EPERM", "uid 1000's connect meanwhile")
            deadline = time.monotonic() + 10
            while not [x for x in agent.events() if x.get("type") == "connect"
                       and x.get("uid") == UNPRIV]:
                check(time.monotonic() < deadline,
                      "no event of the refused connect during the walk")
                time.sleep(0.1)
            check_eq(held.poll(), None, "the walk's answer before the event")
        finally:
            os.write(wfd, b"g")        # let the walk go
        out, err = held.communicate(timeout=60)
        check_eq(held.returncode, 0, f"sockets exit status: {err}")
        lines = [json.loads(l) for l in out.splitlines() if l.strip()]
        check(lines[0]["ok"], f"the walk's answer: {lines[0]}")
        check_eq(len(mine(lines[1:], u.pid)), 1,
                 "the uid-1000 connection in the walk's answer")


@case
def holders_named_without_ptrace():
    """An agent without CAP_SYS_PTRACE (as under the shipped unit) cannot
    read uid 1000's /proc/PID/fd: the task_file iterator names the holder
    all the same (pid, comm, gid); where it is not used (forced with
    NFSG_TEST_NO_TASK_FILES), the holder is unknown, as documented."""
    p = probe()
    no_ptrace = ["setpriv", "--inh-caps=-sys_ptrace",
                 "--bounding-set=-sys_ptrace"]
    ways = [("proc", {"NFSG_TEST_NO_TASK_FILES": "1"})]
    if p_feat(p, "task_files"):
        ways.insert(0, ("iterator", {}))
    for name, env in ways:
        with contextlib.ExitStack() as stack:
            e = Env(stack)
            e.config("[default]\n")
            agent = e.agent(env, prefix=no_ptrace)
            u = e.user[0]
            rc, head, rows = sockets(agent)
            check_eq(head.get("holders_from"), name, "the holders' path")
            row = [x for x in rows if x["uid"] == UNPRIV]
            check_eq(len(row), 1, f"[{name}] the uid-1000 row")
            got = (row[0]["pid"], row[0]["comm"], row[0]["gid"])
            if name == "iterator":
                check_eq(got, (u.pid, "python3", UNPRIV),
                         "[iterator] uid 1000's holder")
            else:
                check_eq(row[0]["pid"], 0, "[proc] no holder without ptrace")


@case
def kernel_paths():
    """What this kernel uses: the matrix's line for each kernel."""
    p = probe()
    feats = {f["name"]: f for f in p["features"]}
    print(f"    kernel {p['kernel']}: listing {p['sockets']}, "
          f"destroy {p['sockets_destroy']}", flush=True)
    check_eq(p["sockets"],
             "iterator" if feats["socket_iter"]["available"] else "sock_diag",
             "listing path")
    if feats["sock_destroy"]["available"]:
        check_eq(p["sockets_destroy"], "bpf_sock_destroy", "destroy path")
    elif feats["diag_destroy"]["available"]:
        check_eq(p["sockets_destroy"], "sock_diag", "destroy path")
    else:
        raise Skip(f"kernel {p['kernel']} cannot abort sockets: "
                   "no bpf_sock_destroy, no CONFIG_INET_DIAG_DESTROY")
