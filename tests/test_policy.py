# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Per-cgroup policy from a configuration file, against the real kernel.

Each case writes a configuration naming cgroups it creates under one
parent cgroup, runs the agent on that parent, and makes real attempts from
real uids inside its own network namespace.
"""
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

from fixtures import (Agent, Cgroup, CONTROL_PORT, Listener, NFS_PORT, Netns,
                      UNPRIV, client, connect, connect_helper, nfsguard)
from harness import Row, Skip, case, check, check_eq, table

V4, V4B, V6 = "127.0.0.1", "127.0.0.2", "::1"
LISTEN = [f"{V4}:{NFS_PORT}", f"{V4B}:{NFS_PORT}", f"[{V6}]:{NFS_PORT}",
          f"{V4}:{CONTROL_PORT}", f"[{V6}]:{CONTROL_PORT}"]


class Env:
    """A parent cgroup with the agent, a netns with listeners, a config."""

    def __init__(self, stack, children=()):
        self.stack = stack
        self.netns = stack.enter_context(Netns())
        self.top = stack.enter_context(Cgroup())
        self.cg = {}
        for name in children:
            parent = self.cg[os.path.dirname(name)] if "/" in name else self.top
            self.cg[name] = stack.enter_context(
                Cgroup(parent, os.path.basename(name)))
        stack.enter_context(Listener(self.netns, LISTEN))
        self.dir = stack.enter_context(tempfile.TemporaryDirectory())
        self.conf = os.path.join(self.dir, "nfsguard.conf")
        self.agent = None

    def rel(self, name):
        """The path a configuration names for child cgroup name."""
        return f"{self.top.rel}/{name}"

    def write(self, text):
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text.format(top=self.top.rel))
        os.rename(tmp, self.conf)

    def start(self, text, binary=None):
        self.write(text)
        self.agent = self.stack.enter_context(
            Agent(["--cgroup", self.top.rel, "--config", self.conf, "--json"],
                  binary=binary))
        return self.agent

    def attempt(self, where, addr=V4, port=NFS_PORT, uid=UNPRIV, extra=(),
                wrap=()):
        cg = self.cg[where] if where else self.top
        if wrap:
            argv = list(wrap) + [connect_helper(), addr, str(port)] + list(extra)
            r = client(self.netns, cg, argv, uid=uid)
            import json
            return json.loads(r.stdout.strip().splitlines()[-1])
        return connect(self.netns, cg, addr, port, uid=uid, extra=extra)

    def events(self):
        self.agent.stop()
        return self.agent.events()


@contextlib.contextmanager
def env(children=()):
    with contextlib.ExitStack() as stack:
        yield Env(stack, children)


def expect(r, result, what):
    check_eq(r["result"], result, what)
    return r["pid"]


def events_of(events, pid):
    return [e for e in events if e.get("pid") == pid and e["type"] == "connect"]


@case
def nested_cgroups_most_specific_policy_wins():
    conf = """
[policy open]
cgroups = {top}/open
privileged_uids = 0, 1000

[policy closed]
cgroups = {top}/open/closed
privileged_uids = none
"""
    with env(["open", "open/closed", "open/inherits"]) as e:
        e.start(conf)
        p_top = expect(e.attempt(None), "EPERM", "uid 1000 under [default]")
        expect(e.attempt("open"), "ok", "uid 1000 where it is privileged")
        expect(e.attempt("open/inherits"), "ok",
               "a child without a policy inherits its parent's")
        p_root = expect(e.attempt("open/closed", uid=None), "EPERM",
                        "root where privileged_uids = none")
        p_v6 = expect(e.attempt("open/closed", addr=V6), "EPERM",
                      "uid 1000 in the closed child")
        ev = e.events()
        check_eq([x["policy"] for x in events_of(ev, p_top)], ["default"],
                 "policy of the top event")
        check_eq([(x["policy"], x["uid"]) for x in events_of(ev, p_root)],
                 [("closed", 0)], "policy of root's event")
        check_eq([x["cgroup"] for x in events_of(ev, p_v6)],
                 [e.rel("open/closed")], "cgroup of the child's event")


@case
def container_root_in_a_user_namespace_is_refused():
    conf = """
[policy kube]
cgroups = {top}/kube
"""
    with env(["kube"]) as e:
        e.start(conf)
        # Root inside an unprivileged user namespace is uid 1000 outside.
        r = e.attempt("kube", wrap=["unshare", "--user", "--map-root-user"])
        pid = expect(r, "EPERM", "namespaced root (host uid 1000)")
        ev = e.events()
        check_eq([(x["uid"], x["policy"]) for x in events_of(ev, pid)],
                 [(UNPRIV, "kube")], "event names the host uid")


@case
def none_refuses_even_host_root():
    conf = """
[policy kube]
cgroups = {top}/kube
privileged_uids = none
"""
    with env(["kube"]) as e:
        e.start(conf)
        expect(e.attempt("kube", uid=None), "EPERM", "host root in kube")
        expect(e.attempt("kube", addr=V6, uid=None), "EPERM", "over IPv6")
        expect(e.attempt(None, uid=None), "ok", "host root elsewhere")


@case
def smc_socket_is_judged_by_the_gid_it_was_made_for():
    """SMC connects through a kernel TCP socket that has no file: its gid
    is read from the socket itself, never as 0, so a gid policy holds."""
    conf = """
[policy gids]
cgroups = {top}/g
privileged_uids = none
privileged_gids = 0
"""
    with env(["g"]) as e:
        e.start(conf)
        r = e.attempt("g", extra=["--proto", "smc"])
        if r["result"].startswith("socket:"):
            raise Skip(f"kernel cannot create an smc socket: {r['result']}")
        pid = expect(r, "EPERM", "uid 1000, gid 1000 over SMC")
        expect(e.attempt("g", uid=None, extra=["--proto", "smc"]), "ok",
               "root (gid 0) over SMC")
        expect(e.attempt("g"), "EPERM", "uid 1000 over TCP")
        ev = e.events()
        check_eq([(x["uid"], x["gid"], x["policy"]) for x in events_of(ev, pid)],
                 [(UNPRIV, UNPRIV, "gids")], "the SMC event's owner")


LATE_CONF = """
[policy late]
cgroups = {top}/late
privileged_uids = none
"""


@case
def cgroup_created_after_start_and_recreated_keeps_its_policy():
    with env() as e:
        e.start(LATE_CONF)
        check(any("does not exist yet" in l for l in e.agent.err),
              f"the agent says the cgroup is pending: {e.agent.err}")
        ids = []
        for round_ in range(2):
            with Cgroup(e.top, "late") as late:
                e.cg["late"] = late
                ids.append(os.stat(late.path).st_ino)
                expect(e.attempt("late", uid=None), "EPERM",
                       f"root in the new cgroup, round {round_}")
        check(ids[0] != ids[1], "a recreated cgroup has a new id")
        check_eq(e.agent.status()["cgroups_named_by_agent"], 0,
                 "cgroups the watcher left for the agent to name")
        ev = e.events()
        cg = [(x["action"], x["cgroup_id"], x["policy"]) for x in ev
              if x["type"] == "cgroup"]
        want = [("added", ids[0], "late"), ("removed", ids[0], "late"),
                ("added", ids[1], "late"), ("removed", ids[1], "late")]
        check_eq(cg, want, "cgroup events")
        added = [x for x in ev if x["type"] == "cgroup"][0]
        check_eq(added["cgroup"], e.rel("late"), "path of the added cgroup")


def start_unnamed(e):
    """The agent of the variant-unnamed build, whose mkdir watcher fails to
    name every new cgroup, as a kernel without memory for the map element
    would; policy 'late' names {top}/late."""
    e.start(LATE_CONF, binary=os.path.join(os.path.dirname(nfsguard()),
                                           "variant-unnamed", "nfsguard"))


def named_by_agent(e):
    """status' cgroups_named_by_agent, once it is not 0 (or after 5 s)."""
    for _ in range(100):
        named = e.agent.status()["cgroups_named_by_agent"]
        if named:
            break
        time.sleep(0.05)
    return named


@case
def cgroup_the_kernel_could_not_name_is_named_by_the_agent():
    """The variant-unnamed build's mkdir watcher fails to name every new
    cgroup, as a kernel without memory for the map element would: the
    agent names it at its event, so the policy governs it all the same,
    and status counts it."""
    with env() as e:
        start_unnamed(e)
        check_eq(e.agent.status()["cgroups_named_by_agent"], 0,
                 "named by the agent before any cgroup is made")
        with Cgroup(e.top, "late") as late:
            e.cg["late"] = late
            check_eq(named_by_agent(e), 1, "cgroups named by the agent")
            expect(e.attempt("late", uid=None), "EPERM",
                   "root in the cgroup the agent named")
        ev = e.events()
        check_eq([(x["action"], x["policy"]) for x in ev
                  if x["type"] == "cgroup"],
                 [("added", "late"), ("removed", "late")], "cgroup events")


@case
def a_cgroup_connected_from_before_the_agent_names_it_gets_its_policy():
    """The variant-unnamed build's watcher cannot name the new cgroup, and
    the agent is stopped: root connects from it under its parent's policy
    (the default, which lets root through), and the hooks keep that index
    in the cgroup. Once the agent names it, its own policy governs: what
    the hooks kept is stale and must not be used again."""
    with env() as e:
        start_unnamed(e)
        e.agent.proc.send_signal(signal.SIGSTOP)
        try:
            with Cgroup(e.top, "late") as late:
                e.cg["late"] = late
                expect(e.attempt("late", uid=None), "ok",
                       "root in the new cgroup, not yet named")
                expect(e.attempt("late", uid=None), "ok",
                       "root in the new cgroup again, not yet named")
                e.agent.proc.send_signal(signal.SIGCONT)
                check_eq(named_by_agent(e), 1, "cgroups named by the agent")
                expect(e.attempt("late", uid=None), "EPERM",
                       "root in the cgroup once the agent named it")
        finally:
            e.agent.proc.send_signal(signal.SIGCONT)


@case
def a_socket_is_judged_by_its_cgroup_after_its_process_moves():
    """A socket keeps the cgroup it was made in; the process that made it
    moves to another cgroup before it connects. Both cgroups have connected
    before, so that what the hooks keep for each is there to be misused."""
    conf = """
[policy closed]
cgroups = {top}/closed
privileged_uids = none

[policy open]
cgroups = {top}/open
privileged_uids = 0
"""
    with env(["closed", "open"]) as e:
        e.start(conf)
        for _ in range(2):
            expect(e.attempt("closed", uid=None), "EPERM", "root in closed")
            expect(e.attempt("open", uid=None), "ok", "root in open")
        # ip netns exec mounts a sysfs of its own over the cgroup2 mount:
        # reach the files through this process's root.
        procs = {k: f"/proc/{os.getpid()}/root"
                    + os.path.join(e.cg[k].path, "cgroup.procs")
                 for k in ("closed", "open")}
        for made, moved, want in (("closed", "open", "EPERM"),
                                  ("open", "closed", "ok")):
            for addr in (V4, V6):
                expect(e.attempt(made, addr=addr, uid=None,
                                 extra=["--move", procs[moved]]), want,
                       f"root's socket made in {made}, connected from "
                       f"{moved}, to {addr}")


@case
def allow_list_limits_even_privileged_sockets():
    conf = """
[policy backup]
cgroups = {top}/backup
allow_destinations = 127.0.0.1/32, ::1
"""
    with env(["backup"]) as e:
        e.start(conf)
        expect(e.attempt("backup", V4, uid=None), "ok", "root to a listed v4")
        expect(e.attempt("backup", V6, uid=None), "ok", "root to a listed v6")
        expect(e.attempt("backup", "::ffff:127.0.0.1", uid=None), "ok",
               "root to a listed v4, v4-mapped")
        pid = expect(e.attempt("backup", V4B, uid=None), "EPERM",
                     "root to an unlisted address")
        expect(e.attempt("backup", "::ffff:127.0.0.2", uid=None), "EPERM",
               "root to an unlisted address, v4-mapped")
        unpriv = expect(e.attempt("backup", V4), "EPERM",
                        "uid 1000 to a listed one")
        expect(e.attempt("backup", V4B, port=CONTROL_PORT, uid=None),
               "ECONNREFUSED", "an ungoverned port is not limited")
        ev = e.events()
        check_eq([(x["uid"], x["daddr"], x["policy"], x["reason"])
                  for x in events_of(ev, pid)],
                 [(0, V4B, "backup", "destination")],
                 "event of the unlisted address")
        check_eq([x["reason"] for x in events_of(ev, unpriv)], ["owner"],
                 "reason of uid 1000's refusal")


@case
def audit_mode_allows_and_reports():
    conf = """
[policy ci]
cgroups = {top}/ci
mode = audit
"""
    with env(["ci"]) as e:
        e.start(conf)
        pid = expect(e.attempt("ci"), "ok", "uid 1000 in audit mode")
        top = expect(e.attempt(None), "EPERM", "uid 1000 under enforce")
        ev = e.events()
        check_eq([(x["verdict"], x["policy"]) for x in events_of(ev, pid)],
                 [("audited", "ci")], "audit event")
        check_eq([x["verdict"] for x in events_of(ev, top)], ["refused"],
                 "enforce event")
        summary = [l for l in e.agent.err if "detached;" in l][0]
        check("refused 1, audited 1," in summary, summary)


@case
def mode_off_leaves_a_subtree_alone():
    conf = """
[policy lab]
cgroups = {top}/lab
mode = off
"""
    with env(["lab"]) as e:
        e.start(conf)
        expect(e.attempt("lab"), "ok", "uid 1000 where the mode is off")
        expect(e.attempt(None), "EPERM", "uid 1000 elsewhere")


UDP_CONF = """
[default]
protocols = tcp, udp
"""


def udp_row(addr, mode, uid, result, extra=()):
    def act(e):
        r = e.attempt(None, addr, uid=uid,
                      extra=["--proto", "udp", "--mode", mode] + list(extra))
        check_eq(r["result"], result, f"udp {mode} to {addr} as {uid}")
        if result == "EPERM":
            e.refused_pids.append(r["pid"])
    return act


def udp_events_counted(e):
    """Every refused UDP attempt, AF_UNSPEC ones too, has its event."""
    ev = e.agent.events()
    got = sorted(x["pid"] for x in ev if x.get("verdict") == "refused")
    check_eq(got, sorted(e.refused_pids), "refused UDP attempts with events")


@contextlib.contextmanager
def udp_env():
    with env() as e:
        e.start(UDP_CONF)
        e.refused_pids = []
        e.finish = e.agent.stop  # every event printed before the checks
        yield e


table("udp_governance", udp_env, [
    Row(f"{who}_{mode}_{name}", udp_row(addr, mode, uid, result))
    for name, addr in (("v4", V4), ("v6", V6), ("mapped", "::ffff:127.0.0.1"))
    for mode in ("block", "sendto")
    for who, uid, result in (("unpriv", UNPRIV, "EPERM"), ("root", None, "ok"))
] + [
    # udp_sendmsg() takes AF_UNSPEC as AF_INET: so must the guard.
    Row("unpriv_sendto_v4_af_unspec",
        udp_row(V4, "sendto", UNPRIV, "EPERM", ["--unspec", "yes"])),
    Row("root_sendto_v4_af_unspec",
        udp_row(V4, "sendto", None, "ok", ["--unspec", "yes"])),
    Row("every_refusal_reported", lambda e: udp_events_counted),
])


def flip_conf(first):
    """Two versions whose mix would refuse uid 1000 in {top}/c.

    In both, policy p (uid 1000 privileged) governs {top}/c. In B it has
    another index, and the index it had in A belongs to q (root only).
    A decision mixing A's cgroup map with B's policies refuses.
    """
    q = "[policy q]\ncgroups = {top}/unused\n"
    p = "[policy p]\ncgroups = {top}/c\nprivileged_uids = 0, 1000\n"
    return p + q if first else q + p


@case
def reload_under_load_sees_one_whole_version():
    with env(["c", "unused"]) as e:
        e.start(flip_conf(True))
        result = {}

        # Fewer under emulation (a kernel-matrix guest): still hundreds
        # of connects per reload.
        count = "5000" if os.environ.get("NFSG_GUEST") else "50000"

        def hammer():
            result["r"] = e.attempt("c", extra=["--count", count])

        def reloads():
            return sum("reloaded: generation" in l for l in e.agent.err)

        t = threading.Thread(target=hammer)
        t.start()
        flips = 0
        while t.is_alive() and flips < 100:
            flips += 1
            e.write(flip_conf(flips % 2 == 0))
            e.agent.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while reloads() < flips and time.time() < deadline:
                time.sleep(0.005)
        t.join(120)
        r = result["r"]
        check_eq((r["ok"], r["EPERM"], r["other"]), (r["count"], 0, 0),
                 "every connect allowed (a mix of versions would refuse: "
                 "EPERM at the hook, ECONNABORTED at the backstop); other: "
                 + r["other_errno"])
        check(reloads() >= 10,
              f"only {reloads()} reloads happened during the load")


BAD_CONFIGS = [
    ("[default]\nports = 70000\n", ":2: ports: invalid value '70000'"),
    ("[policy x]\ncgroups = relative\n",
     ":2: cgroups: invalid path 'relative'"),
    ("[default]\nmode = loud\n", ":2: mode: invalid value 'loud'"),
    ("[nope]\n", ":1: unknown section [nope]"),
]


def bad_start(text, want):
    def act(e):
        e.write(text)
        r = subprocess.run([nfsguard(), "run", "--cgroup", e.top.rel,
                            "--config", e.conf], capture_output=True,
                           text=True, timeout=30)
        check_eq(r.returncode, 1, "exit status")
        lines = r.stderr.strip().splitlines()
        check_eq(len(lines), 1, f"error lines: {lines}")
        check(lines[0].startswith(f"nfsguard: {e.conf}{want}"),
              f"{lines[0]!r} should name the file, line and value: {want!r}")
    return act


def bad_reload(text, want):
    def act(e):
        e.write(text)
        e.agent.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and not any(
                want in l for l in e.agent.err):
            time.sleep(0.05)
        check(any(f"{e.conf}{want}" in l for l in e.agent.err),
              f"no {want!r} in {e.agent.err}")
        r = e.attempt(None)
        check_eq(r["result"], "EPERM", "the running policy still refuses")
        r = e.attempt("open")
        check_eq(r["result"], "ok", "the running policy still allows")
    return act


@contextlib.contextmanager
def running_agent():
    with env(["open"]) as e:
        e.start("[policy open]\ncgroups = {top}/open\n"
                "privileged_uids = 0, 1000\n")
        e.finish = lambda: None
        yield e


def missing_config(e):
    r = subprocess.run([nfsguard(), "run", "--cgroup", e.top.rel, "--config",
                        e.conf + ".missing"], capture_output=True, text=True,
                       timeout=30)
    check_eq(r.returncode, 1, "exit status")
    check(r.stderr.strip().endswith(
        "no such file: create it or leave out --config for the default policy"),
        r.stderr)


def kept_message(e):
    check(any("configuration invalid: keeping the running policy" in l
              for l in e.agent.err), f"agent said: {e.agent.err}")
    check(e.agent.proc.poll() is None, "the agent must keep running")


table("bad_configuration", running_agent,
      [Row(f"start_{i}", bad_start(t, w)) for i, (t, w) in enumerate(BAD_CONFIGS)]
      + [Row("start_missing_file", missing_config)]
      + [Row(f"reload_{i}", bad_reload(t, w))
         for i, (t, w) in enumerate(BAD_CONFIGS)]
      + [Row("reload_keeps_running_policy", kept_message)])


def nfsguard_cmd(*args):
    return subprocess.run([nfsguard()] + list(args), capture_output=True,
                          text=True, timeout=60)


def agent_status(agent):
    st = agent.status()
    check_eq((st["agent_running"], st["pid"]), (True, agent.proc.pid),
             "the agent answers for itself")
    return st


@case
def status_shows_hooks_policy_ids_and_counters():
    conf = """
[policy kube]
cgroups = {top}/kube, {top}/later
privileged_uids = none
allow_destinations = 127.0.0.1
"""
    with env(["kube"]) as e:
        e.start(conf)
        expect(e.attempt("kube", uid=None), "EPERM", "root in kube")
        expect(e.attempt(None), "EPERM", "uid 1000 under default")
        expect(e.attempt(None, uid=None), "ok", "root under default")
        st = agent_status(e.agent)
        check_eq(st["cgroup"], e.top.rel, "attach point")
        hooks = {h["hook"]: h.get("cgroup", h.get("tracepoint"))
                 for h in st["hooks"]}
        check_eq(hooks, {"connect4": e.top.rel, "connect6": e.top.rel,
                         "sendmsg4": e.top.rel, "sendmsg6": e.top.rel,
                         "egress": e.top.rel, "cg_mkdir": "cgroup_mkdir",
                         "cg_rmdir": "cgroup_rmdir"}, "hooks")
        pol = {p["name"]: p for p in st["policies"]}
        check_eq(sorted(pol), ["default", "kube"], "policies")
        kube = pol["kube"]
        cgs = {c["path"]: c["id"] for c in kube["cgroups"]}
        check_eq(cgs, {e.rel("kube"): os.stat(e.cg["kube"].path).st_ino,
                       e.rel("later"): None}, "resolved cgroup ids")
        check_eq((kube["mode"], kube["privileged_uids"],
                  kube["allow_destinations"]),
                 ("enforce", "none", ["127.0.0.1/32"]), "kube policy")
        check_eq(kube["counters"], {"allowed": 0, "refused": 1, "audited": 0},
                 "kube counters")
        check_eq(pol["default"]["counters"],
                 {"allowed": 1, "refused": 1, "audited": 0},
                 "default counters")
        check_eq((st["counters"]["refused"], st["counters"]["allowed"]),
                 (2, 1), "total counters")
        text = e.agent.cli("status")
        check(f"agent {e.agent.proc.pid}: enforcing on cgroup {e.top.rel}"
              in text.stdout, text.stdout)
        check(f"cgroup {e.rel('later')} (not created yet)" in text.stdout,
              text.stdout)


@case
def reload_command_switches_or_keeps_the_policy():
    with env(["c"]) as e:
        e.start("[policy c]\ncgroups = {top}/c\nprivileged_uids = 0, 1000\n")
        expect(e.attempt("c"), "ok", "uid 1000 privileged in c")
        e.write("[policy c]\ncgroups = {top}/c\nprivileged_uids = 0\n")
        r = e.agent.cli("reload", "--json")
        check_eq(r.returncode, 0, f"reload exit ({r.stderr.strip()})")
        check_eq((json.loads(r.stdout)["ok"], json.loads(r.stdout)["generation"]),
                 (True, 1), "the agent's answer")
        expect(e.attempt("c"), "EPERM", "uid 1000 after the reload")
        e.write("[policy c]\ncgroups = {top}/c\nprivileged_uids = everyone\n"
                "mode = loud\n")
        t0 = time.monotonic()
        r = e.agent.cli("reload", "--json")
        took = time.monotonic() - t0
        check_eq(r.returncode, 1, "reload of an invalid file")
        check(took < 2, f"the answer took {took:.1f}s")
        ans = json.loads(r.stdout)
        check_eq((ans["ok"], ans["generation"]), (False, 1), "the answer")
        check_eq([x["line"] for x in ans["errors"]], [3, 4],
                 f"every error, with its line: {ans}")
        check(all(x["message"].startswith(f"{e.conf}:") for x in ans["errors"]),
              f"errors name the file: {ans}")
        r = e.agent.cli("reload")
        check_eq(r.returncode, 1, "reload of an invalid file, text")
        check_eq([l.split(": ")[0] for l in r.stderr.strip().splitlines()],
                 [f"{e.conf}:3", f"{e.conf}:4"], "text errors, FILE:LINE")
        expect(e.attempt("c"), "EPERM", "the running policy stays")
        check_eq(agent_status(e.agent)["generation"], 1,
                 "generation after one good reload")


@case
def status_and_reload_without_an_agent():
    with tempfile.TemporaryDirectory() as d:
        ctl = os.path.join(d, "control")
        r = nfsguard_cmd("reload", "--control", ctl)
        check_eq(r.returncode, 3, "reload exit")
        r = nfsguard_cmd("status", "--control", ctl, "--pin-dir",
                         "/sys/fs/bpf/nfsg-none-" + str(os.getpid()), "--json")
        check_eq(r.returncode, 3, "status exit")
        st = json.loads(r.stdout)
        check_eq((st["agent_running"], st["policies"]), (False, []),
                 "status with nothing running or pinned")


@case
def check_validates_without_the_kernel():
    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, "good.conf")
        bad = os.path.join(d, "bad.conf")
        with open(good, "w") as f:
            f.write("[policy kube]\ncgroups = /kubepods.slice\n"
                    "privileged_uids = none\n")
        with open(bad, "w") as f:
            f.write("[default]\nports = 0\nmode = loud\n[policy x]\n")
        r = nfsguard_cmd("check", good)
        check_eq(r.returncode, 0, f"check of a good file ({r.stderr})")
        check(r.stdout.startswith(f"{good}: valid, 2 policies"), r.stdout)
        check("cgroup /kubepods.slice" in r.stdout, r.stdout)
        r = nfsguard_cmd("check", bad)
        check_eq(r.returncode, 1, "check of a bad file")
        lines = r.stderr.strip().splitlines()
        check_eq([l.split(": ", 2)[1] for l in lines],
                 [f"{bad}:2", f"{bad}:3", f"{bad}:4"],
                 f"every error, in file order: {lines}")
        r = nfsguard_cmd("check", os.path.join(d, "missing.conf"))
        check_eq(r.returncode, 1, "check of a missing file")


@case
def readme_example_configuration_is_valid():
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "README.md")
    with open(readme) as f:
        text = f.read()
    block = text.split("```ini\n", 1)[1].split("```", 1)[0]
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(block)
        f.flush()
        r = nfsguard_cmd("check", f.name)
    check_eq(r.returncode, 0, f"README example: {r.stderr}")
    check("valid, 4 policies" in r.stdout, r.stdout)


@case
def a_cgroup_deeper_than_32_levels_keeps_its_ancestors_policy():
    conf = """
[policy p]
cgroups = {top}/p
privileged_uids = none
"""
    with env(["p"]) as e:
        e.start(conf)
        with contextlib.ExitStack() as deep:
            cg = e.cg["p"]
            for i in range(34):
                cg = deep.enter_context(Cgroup(cg, f"d{i}"))
            r = connect(e.netns, cg, V4, NFS_PORT, uid=None)
            check_eq(r["result"], "EPERM",
                     "root 35 levels down, under privileged_uids = none")
        expect(e.attempt(None, uid=None), "ok", "root elsewhere")
