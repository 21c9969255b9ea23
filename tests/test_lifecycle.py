# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Enforcement that outlives the agent, against the real kernel.

Each case pins into its own directory under bpffs, attaches to cgroups it
creates, and removes its pins (nfsguard uninstall) even when it fails.
"""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from fixtures import (Agent, BUILD, Cgroup, CONTROL_PORT, Listener, NFS_PORT,
                      Netns, UNPRIV, attached_ids_of, connect, nfsguard,
                      progs_of, sh, unique)
from harness import case, check, check_eq

V4 = "127.0.0.1"
FOREIGN_PORT = 4049
HOOKS = ["nfsg_connect4", "nfsg_connect6", "nfsg_egress", "nfsg_sendmsg4",
         "nfsg_sendmsg6"]
BPFFS = "/sys/fs/bpf"


def ensure_bpffs():
    with open("/proc/mounts") as f:
        if any(l.split()[1] == BPFFS and l.split()[2] == "bpf" for l in f):
            return
    sh("mount", "-t", "bpf", "bpf", BPFFS)


class Env:
    def __init__(self, stack):
        ensure_bpffs()
        self.stack = stack
        self.netns = stack.enter_context(Netns())
        self.cg = stack.enter_context(Cgroup())
        stack.enter_context(Listener(self.netns, [
            f"{V4}:{NFS_PORT}", f"{V4}:{CONTROL_PORT}",
            f"{V4}:{FOREIGN_PORT}"]))
        self.pins = os.path.join(BPFFS, unique("pins"))
        stack.callback(self.uninstall)

    def agent(self, binary=None, extra=()):
        argv = ["--cgroup", self.cg.rel, "--persist", "--pin-dir", self.pins,
                "--json"] + list(extra)
        a = Agent(argv)
        if binary:
            a.argv[0] = binary
        self.control = a.control    # the one uninstall asks
        return self.stack.enter_context(a)

    def uninstall(self):
        argv = [nfsguard(), "uninstall", "--pin-dir", self.pins]
        if getattr(self, "control", None):
            argv += ["--control", self.control]
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=60)

    def attempt(self, port=NFS_PORT, uid=UNPRIV, extra=(), timeout=30):
        return connect(self.netns, self.cg, V4, port, uid=uid, extra=extra,
                       timeout=timeout)

    def hammer(self, port=NFS_PORT, limit=300):
        """Connect in the background until join() (at most limit seconds),
        so that however long an agent takes to start, the loop outlasts
        it. Returns join(), which stops the loop and gives the tally, and
        alive(), which says it still runs."""
        flags = tempfile.mkdtemp(prefix="nfsg-hammer-")
        os.chmod(flags, 0o755)  # the loop runs as uid 1000
        flag = os.path.join(flags, "go")
        open(flag, "w").close()
        # Removing the flag ends the loop, on every path out of the case.
        self.stack.callback(shutil.rmtree, flags, True)
        result = {}
        t = threading.Thread(target=lambda: result.update(
            self.attempt(port, extra=["--count", "100000000", "--seconds",
                                      str(limit), "--while", flag],
                         timeout=limit + 60)))
        t.start()

        def join():
            os.unlink(flag)
            t.join(300)
            return result
        return join, t.is_alive


@contextlib.contextmanager
def env():
    with contextlib.ExitStack() as stack:
        e = Env(stack)
        yield e
        # The case passed: its pins must go, and uninstall must say so.
        r = e.uninstall()
        check_eq(r.returncode, 0, f"uninstall at the end: {r.stderr}")


def unit_values(key):
    """The numbers of the unit's key= lines, as one int (one expected)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "user", "nfsguard.service.in")) as f:
        vals = [v for l in f if l.startswith(key + "=")
                for v in l.split("=", 1)[1].split()]
    check_eq(len(vals), 1, f"{key}= values in the unit")
    return int(vals[0])


def attached_ids(cg):
    """{program id: name} on the cgroup's hooks."""
    return attached_ids_of(cg.path)


def attached(cg):
    return list(attached_ids(cg).values())


def nfsg_programs():
    r = sh("bpftool", "-j", "prog", "show")
    return [p for p in json.loads(r.stdout) if p.get("name", "").startswith("nfsg_")]


def counters(agent):
    st = agent.status()
    check_eq((st["agent_running"], st["pid"]), (True, agent.proc.pid),
             "the agent answers")
    return st["counters"]


def policy_counters(agent, name="default"):
    pol = {p["name"]: p["counters"] for p in agent.status()["policies"]}
    return pol[name]


def one_copy_per_hook(cg):
    names = sorted(n for n in attached(cg) if n.startswith("nfsg_"))
    check_eq(names, HOOKS, "nfsguard programs on the cgroup's hooks")


def wait_started(agent):
    check(any("enforcing on cgroup" in l for l in agent.err), agent.err)


@case
def sigkill_keeps_enforcing_and_restart_adopts():
    with env() as e:
        first = e.agent()
        wait_started(first)
        done, running = e.hammer()
        time.sleep(0.2)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        time.sleep(0.5)
        check(running(), "the client loop outlives the agent")
        r = done()
        check_eq((r["EPERM"], r["ok"], r["other"]), (r["count"], 0, 0),
                 "every uid 1000 connect refused, agent dead or alive")
        one_copy_per_hook(e.cg)
        second = e.agent()
        check(any("adopted the enforcement pinned" in l for l in second.err),
              f"the new agent adopts: {second.err}")
        one_copy_per_hook(e.cg)
        c = counters(second)
        check_eq(c["refused"], r["count"], "refused counter continues")
        expect = e.attempt()
        check_eq(expect["result"], "EPERM", "after the restart")


@case
def sigterm_in_service_mode_leaves_enforcement_pinned():
    with env() as e:
        a = e.agent()
        check_eq(a.stop(signal.SIGTERM), 0, "exit status")
        check(any("keep enforcing" in l for l in a.err), a.err)
        check_eq(e.attempt()["result"], "EPERM", "with no agent running")
        one_copy_per_hook(e.cg)


def upgrade(binary, check_new):
    def fn():
        with env() as e:
            old = e.agent()
            old_ids = set(attached_ids(e.cg))
            check_eq(e.attempt(port=3049)["result"], "ok",
                     "port 3049 before the upgrade")
            done, running = e.hammer()
            time.sleep(0.1)
            old.stop(signal.SIGTERM)
            new = e.agent(binary=os.path.join(BUILD, binary, "nfsguard"))
            check(running(), "the client loop outlives the swap")
            r = done()
            check_eq((r["EPERM"], r["ok"], r["other"]), (r["count"], 0, 0),
                     "no refused connect got through during the swap")
            one_copy_per_hook(e.cg)
            new_ids = set(attached_ids(e.cg))
            check_eq(old_ids & new_ids, set(),
                     "programs of the old build still on the hooks")
            check_new(e, new, r)
    return fn


def port_variant_in_force(e, agent, r):
    check_eq(e.attempt(port=3049)["result"], "EPERM",
             "the new build governs port 3049")
    check(any("adopted the enforcement pinned" in l for l in agent.err),
          agent.err)
    check_eq(counters(agent)["refused"], r["count"] + 1,
             "counters continue across the upgrade")


def abi_variant_rebuilt(e, agent, r):
    check(any("from another version" in l and "rebuilding" in l
              for l in agent.err), agent.err)
    check_eq(e.attempt()["result"], "EPERM", "after the rebuild")
    check_eq(counters(agent)["refused"], r["count"] + 1,
             "counters carried over into the rebuilt maps")


upgraded = upgrade("variant-port", port_variant_in_force)
upgraded.__name__ = "upgrade_swaps_programs_atomically_under_load"
case(upgraded)
rebuilt = upgrade("variant-abi", abi_variant_rebuilt)
rebuilt.__name__ = "upgrade_to_a_new_map_layout_rebuilds_under_load"
case(rebuilt)


@case
def uninstall_of_a_running_agent_never_says_the_pins_stay():
    with env() as e:
        a = e.agent()
        r = e.uninstall()
        check_eq(r.returncode, 0, f"uninstall: {r.stderr}")
        # The unit must not restart an uninstalled agent: its exit status
        # is the one the unit names, and the unit names no other.
        check_eq(a.stop(), unit_values("RestartPreventExitStatus"),
                 "the agent's exit status against the unit's")
        check_eq(unit_values("SuccessExitStatus"),
                 unit_values("RestartPreventExitStatus"),
                 "an uninstalled unit is inactive, not failed")
        check(not any("keep enforcing" in l for l in a.err),
              f"the agent said its pins stay: {a.err}")
        check(any("nothing is pinned" in l for l in a.err), a.err)
        check_eq(e.attempt()["result"], "ok", "uid 1000 after uninstall")


@case
def uninstall_names_an_agent_it_cannot_reach_and_removes_nothing():
    """The pins' lock says an agent holds them; if it does not answer at
    the control socket given, nothing is removed and uninstall exits 1."""
    with env() as e:
        a = e.agent()
        r = subprocess.run([nfsguard(), "uninstall", "--pin-dir", e.pins,
                            "--control", a.control + ".nobody"],
                           capture_output=True, text=True, timeout=60)
        check_eq((r.returncode, r.stdout), (1, ""), "uninstall's exit, output")
        check(os.path.isdir(e.pins), "the pins stay")
        check_eq(e.attempt()["result"], "EPERM", "still enforced")
        check_eq(a.proc.poll(), None, "the agent runs on")


def ask(path, request):
    """One request as root; the answer's first line, parsed."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(s.makefile().readline())


@case
def uninstall_of_another_pin_dir_is_refused_with_its_code():
    with env() as e:
        a = e.agent()
        r = ask(a.control, {"cmd": "uninstall", "pin_dir": e.pins + "-other"})
        check_eq((r["ok"], r["type"], r["reason"], r["pin_dir"]),
                 (False, "uninstall", "not_this_pin_dir", e.pins), "answer")
        check(os.path.isdir(e.pins), "the pins stay")
        check_eq(a.proc.poll(), None, "the agent runs on")


@case
def uninstall_of_a_stopped_agent_gives_up_and_the_agent_drops_it():
    """A stopped agent does not hold uninstall forever: it exits 1 within
    its bound. The request it left is not acted on later: the agent,
    continued, sees its client gone, and keeps its pins and its hooks."""
    with env() as e:
        a = e.agent()
        os.kill(a.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = subprocess.run([nfsguard(), "uninstall", "--pin-dir", e.pins,
                                "--control", a.control],
                               capture_output=True, text=True, timeout=60)
            took = time.monotonic() - t0
        finally:
            os.kill(a.proc.pid, signal.SIGCONT)
        check_eq((r.returncode, r.stdout, len(r.stderr.splitlines())),
                 (1, "", 1), f"uninstall's exit, output, lines: {r.stderr}")
        check(5 <= took < 30, f"uninstall gave up after {took:.1f} s")
        # The agent answers again, having done nothing for the one gone
        # (whose request it read, with the status request's or before).
        time.sleep(1)
        st = a.status()
        check_eq((st["agent_running"], st["pid"]), (True, a.proc.pid),
                 "the agent runs on")
        check(os.path.isdir(e.pins), "the pins stay")
        check_eq(e.attempt()["result"], "EPERM", "still enforced")
        check_eq(a.proc.poll(), None, "the agent still runs")


@case
def uninstall_leaves_nothing_behind():
    with env() as e:
        a = e.agent()
        ids = set(progs_of(a.proc.pid).values())
        check_eq(len(ids), len(HOOKS) + 5,
                 "the agent's programs (hooks, watchers, three iterators)")
        a.stop(signal.SIGTERM)
        r = e.uninstall()
        check_eq(r.returncode, 0, f"uninstall: {r.stderr}")
        check("removed" in r.stdout and "link_connect4" in r.stdout, r.stdout)
        check(not os.path.exists(e.pins), "the pin directory is gone")
        check_eq([n for n in attached(e.cg) if n.startswith("nfsg_")], [],
                 "programs attached")
        left = []
        for _ in range(100):
            left = [p for p in nfsg_programs() if p["id"] in ids]
            if not left:
                break
            time.sleep(0.05)
        check_eq(left, [], "programs still loaded")
        links = json.loads(sh("bpftool", "-j", "link", "show").stdout or "[]")
        check_eq([l for l in links if l.get("prog_id") in ids], [],
                 "links left")
        check_eq(e.attempt()["result"], "ok", "uid 1000 after uninstall")


@case
def foreground_refuses_to_double_a_pinned_hook():
    with env() as e:
        e.agent().stop(signal.SIGTERM)
        r = subprocess.run([nfsguard(), "run", "--cgroup", e.cg.rel,
                            "--pin-dir", e.pins], capture_output=True,
                           text=True, timeout=30)
        check_eq(r.returncode, 1, "exit status")
        check("nfsguard enforcement is pinned in" in r.stderr, r.stderr)
        one_copy_per_hook(e.cg)


@case
def a_second_service_agent_is_refused_while_one_runs():
    with env() as e:
        e.agent()
        r = subprocess.run([nfsguard(), "run", "--cgroup", e.cg.rel,
                            "--persist", "--pin-dir", e.pins],
                           capture_output=True, text=True, timeout=30)
        check_eq(r.returncode, 1, "exit status")
        check("another nfsguard agent is running" in r.stderr, r.stderr)
        one_copy_per_hook(e.cg)


@contextlib.contextmanager
def foreign_program(cg):
    """Another agent's cgroup/connect4 program, attached the legacy way."""
    pin = os.path.join(BPFFS, unique("foreign"))
    obj = os.path.join(BUILD, "tests", "foreign.bpf.o")
    sh("bpftool", "prog", "load", obj, pin, "type", "cgroup/connect4")
    try:
        sh("bpftool", "cgroup", "attach", cg.path, "connect4", "pinned", pin,
           "multi")
        try:
            yield
        finally:
            sh("bpftool", "cgroup", "detach", cg.path, "connect4", "pinned",
               pin, check=False)
    finally:
        os.unlink(pin)


@case
def foreign_program_survives_start_restart_and_uninstall():
    with env() as e, foreign_program(e.cg):
        def both_apply(when):
            check("foreign_connect4" in attached(e.cg),
                  f"foreign program attached {when}")
            check_eq(e.attempt(port=FOREIGN_PORT, uid=None)["result"],
                     "EPERM", f"the foreign program refuses {when}")

        both_apply("before nfsguard")
        a = e.agent()
        both_apply("with nfsguard")
        check_eq(e.attempt()["result"], "EPERM", "nfsguard refuses too")
        a.stop(signal.SIGTERM)
        e.agent()
        both_apply("after a restart")
        r = e.uninstall()
        check_eq(r.returncode, 0, r.stderr)
        both_apply("after uninstall")
        check_eq(e.attempt()["result"], "ok", "nfsguard is gone")


@case
def bpffs_is_mounted_when_absent():
    with env() as e:
        # A private mount namespace without bpffs: the agent mounts one.
        # Its pins die with the namespace, when the agent exits.
        wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                f'umount -l {BPFFS} 2>/dev/null; exec "$@"', "sh"]
        a = Agent(["--cgroup", e.cg.rel, "--persist", "--pin-dir",
                   os.path.join(BPFFS, "nfsguard"), "--json"], wrap=wrap)
        with a:
            check(any(f"mounted bpffs at {BPFFS}" in l for l in a.err), a.err)
            check_eq(e.attempt()["result"], "EPERM", "enforcing")
            a.stop(signal.SIGTERM)
        for _ in range(100):
            if e.attempt()["result"] == "ok":
                break
            time.sleep(0.05)
        check_eq(e.attempt()["result"], "ok",
                 "the namespace's pins went with it")


@case
def systemd_unit_verifies_and_installs():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["make", "-s", "install", f"PREFIX={d}",
                            f"SYSCONFDIR={d}/etc", f"OUTPUT={BUILD}"],
                           cwd=os.path.join(os.path.dirname(__file__), ".."),
                           capture_output=True, text=True, timeout=300)
        check_eq(r.returncode, 0, f"make install: {r.stderr}")
        unit = os.path.join(d, "lib/systemd/system/nfsguard.service")
        for f in (f"{d}/sbin/nfsguard", unit, f"{d}/etc/nfsguard/nfsguard.conf",
                  f"{d}/share/man/man8/nfsguard.8"):
            check(os.path.exists(f), f"{f} installed")
        with open(unit) as f:
            text = f.read()
        check(f"ExecStart={d}/sbin/nfsguard run --persist" in text, text)
        check("Type=notify" in text, "Type=notify")
        env = dict(os.environ, MANPATH=f"{d}/share/man")
        r = subprocess.run(["systemd-analyze", "verify", unit],
                           capture_output=True, text=True, env=env, timeout=60)
        check_eq(r.returncode, 0, f"systemd-analyze verify: {r.stderr}")
        r = subprocess.run([f"{d}/sbin/nfsguard", "check",
                            f"{d}/etc/nfsguard/nfsguard.conf"],
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 0, f"installed configuration: {r.stderr}")


@case
def service_capabilities_are_enough_and_notify_ready():
    """Run as the unit does: only its four capabilities, Type=notify."""
    with env() as e, tempfile.TemporaryDirectory() as d:
        import socket
        path = os.path.join(d, "notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(30)
        caps = "+bpf,+perfmon,+net_admin,+dac_read_search"
        wrap = ["env", f"NOTIFY_SOCKET={path}", "setpriv",
                f"--bounding-set=-all,{caps}", "--inh-caps=-all"]
        with Agent(["--cgroup", e.cg.rel, "--persist", "--pin-dir", e.pins,
                    "--json"], wrap=wrap) as a:
            check_eq(s.recv(64), b"READY=1", "readiness notification")
            check_eq(e.attempt()["result"], "EPERM", "enforcing")
            a.proc.send_signal(signal.SIGHUP)
            check_eq(s.recv(64), b"RELOADING=1", "reload notification")
            check_eq(s.recv(64), b"READY=1", "ready after the reload")
            a.stop(signal.SIGTERM)
            check_eq(s.recv(64), b"STOPPING=1", "stop notification")
        s.close()


@case
def persist_on_another_cgroup_fails_and_changes_nothing():
    with env() as e, Cgroup() as other:
        first = e.agent()
        gen = json.loads(subprocess.run(
            ["bpftool", "-j", "map", "dump", "pinned",
             os.path.join(e.pins, "nfsg_gen")], capture_output=True,
            text=True).stdout)[0]["value"]
        first.stop(signal.SIGTERM)
        r = subprocess.run([nfsguard(), "run", "--persist", "--pin-dir",
                            e.pins, "--cgroup", other.rel],
                           capture_output=True, text=True, timeout=30)
        check_eq(r.returncode, 1, "exit status")
        check("attached to another cgroup" in r.stderr, r.stderr)
        after = json.loads(subprocess.run(
            ["bpftool", "-j", "map", "dump", "pinned",
             os.path.join(e.pins, "nfsg_gen")], capture_output=True,
            text=True).stdout)[0]["value"]
        check_eq(after, gen, "the active generation")
        check_eq([n for n in attached(other) if n.startswith("nfsg_")], [],
                 "programs on the other cgroup")
        check_eq(e.attempt()["result"], "EPERM", "the pinned policy holds")


@case
def uninstall_removes_only_nfsguards_pins():
    with env() as e:
        e.agent().stop(signal.SIGTERM)
        # Someone else's pin in the same directory.
        foreign = os.path.join(e.pins, "someone_elses")
        sh("bpftool", "prog", "load",
           os.path.join(BUILD, "tests", "foreign.bpf.o"), foreign,
           "type", "cgroup/connect4")
        try:
            r = e.uninstall()
            check(os.path.exists(foreign), "the foreign pin survives")
            check("link_connect4" in r.stdout, r.stdout)
            check(not [f for f in os.listdir(e.pins) if f != "someone_elses"],
                  f"nfsguard pins left: {os.listdir(e.pins)}")
        finally:
            os.unlink(foreign)
        r = subprocess.run([nfsguard(), "uninstall", "--pin-dir", BPFFS],
                           capture_output=True, text=True, timeout=30)
        check_eq(r.returncode, 1, "uninstall of the bpffs root")
        check("not a pin directory" in r.stderr, r.stderr)
