# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The running agent as a service others talk to, against the real kernel:
its control socket (status, reload, live events for many readers), counters
that go on by policy name, Prometheus metrics scraped by Debian's
prometheus, output that survives a broken stdout, and an attach point that
goes away. Everything is matched on JSON and exit codes.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

from fixtures import (Agent, BUILD, Cgroup, NFS_PORT, UNPRIV, connect,
                      nfsguard, unique)
from harness import Skip, case, check, check_eq
from test_lifecycle import env, policy_counters

V4 = "127.0.0.1"


class Reader:
    """nfsguard events --json, read by a thread (or not at all: stalled)."""

    def __init__(self, agent, *args, stalled=False):
        self.proc = subprocess.Popen(
            [nfsguard(), "events", "--control", agent.control, "--json"]
            + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.lines = []
        self.thread = None
        if not stalled:
            self.start()

    def start(self):
        def read():
            for line in self.proc.stdout:
                self.lines.append(json.loads(line))
        self.thread = threading.Thread(target=read, daemon=True)
        self.thread.start()

    def of(self, kind):
        return [x for x in self.lines if x["type"] == kind]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if self.thread:
            self.thread.join(5)
        return rc


def wait_for(cond, what, timeout=20):
    if os.environ.get("NFSG_GUEST"):   # emulated CPUs: an agent is slow
        timeout *= 6
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def cpu_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@case
def many_readers_and_a_stalled_one_under_a_flood():
    with env() as e:
        agent = e.agent(extra=["--rate", "1000", "--burst", "1000"])
        readers = [Reader(agent), Reader(agent)]
        stalled = Reader(agent, "--queue", "4096", stalled=True)
        wait_for(lambda: agent.status()["readers"] == 3, "three readers")
        c0, t0 = cpu_of(agent.proc.pid), time.monotonic()
        r = e.attempt(extra=["--count", "100000"])
        took, used = time.monotonic() - t0, cpu_of(agent.proc.pid) - c0
        check_eq((r["EPERM"], r["count"]), (100000, 100000), "flood refused")
        check_eq(agent.status()["counters"]["refused"], 100000,
                 "the refused counter, readers or not")
        check(used < max(0.5, took / 2),
              f"the agent used {used:.2f}s of CPU in a {took:.2f}s flood")
        own = lambda: [x for x in agent.events() if x["type"] == "connect"]
        wait_for(lambda: all(len(x.of("connect")) == len(own())
                             for x in readers), "the live readers catch up")
        want = [(x["pid"], x["time"]) for x in own()]
        for x in readers:
            check_eq([(y["pid"], y["time"]) for y in x.of("connect")], want,
                     "a live reader sees every event the limit lets through")
        check(len(want) >= 1000, f"only {len(want)} events: no flood")
        # The stalled reader wakes up; one more event tells it what it missed.
        stalled.start()
        time.sleep(0.5)
        e.attempt()
        wait_for(lambda: len(readers[0].of("connect")) == len(want) + 1,
                 "the last event")
        wait_for(lambda: stalled.of("connect") and
                 stalled.of("connect")[-1]["pid"] ==
                 readers[0].of("connect")[-1]["pid"], "the stalled reader")
        missed = sum(x["count"] for x in stalled.of("missed"))
        check(missed > 0, "the stalled reader is told it missed events")
        check_eq(len(stalled.of("connect")) + missed, len(want) + 1,
                 "what it saw and what it missed add up")
        for x in readers + [stalled]:
            check_eq(x.close(), 0, "reader exit status")


@case
def control_socket_refuses_uid_1000_and_replaces_a_stale_one():
    with Cgroup() as cg:
        a = Agent(["--cgroup", cg.rel, "--json"])
        with a:
            st = os.stat(a.control)
            check_eq((st.st_uid, st.st_mode & 0o777), (0, 0o600),
                     "the socket's owner and mode")
            r = a.cli("status", "--json", uid=UNPRIV)
            check(r.returncode != 0 and not r.stdout,
                  f"uid 1000 got an answer: {r.returncode} {r.stdout!r}")
            # A second agent on the same socket is refused.
            r = subprocess.run([nfsguard(), "run", "--cgroup", cg.rel,
                                "--control", a.control],
                               capture_output=True, text=True, timeout=30)
            check_eq(r.returncode, 1, "a second agent on a live socket")
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait()
            check(os.path.exists(a.control), "the dead agent's socket stays")
            b = Agent(["--cgroup", cg.rel, "--json"])
            shutil.rmtree(b.ctl_dir)
            b.control, b.argv[-1] = a.control, a.control
            with b:
                check_eq(b.status()["pid"], b.proc.pid,
                         "the stale socket was replaced")


@case
def status_without_the_agent_reads_the_pins():
    with env() as e:
        agent = e.agent()
        check_eq(e.attempt()["result"], "EPERM", "refused")
        agent.proc.send_signal(signal.SIGKILL)
        agent.proc.wait()
        check_eq(e.attempt()["result"], "EPERM", "still refused")
        r = subprocess.run([nfsguard(), "status", "--control", agent.control,
                            "--pin-dir", e.pins, "--json"],
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 3, "status exit without an agent")
        st = json.loads(r.stdout)
        check_eq((st["agent_running"], st["pin_dir"], st["cgroup"]),
                 (False, e.pins, e.cg.rel), "what status says")
        check_eq(st["counters"]["refused"], 2, "total refused")
        pol = {p["name"]: p["counters"] for p in st["policies"]}
        check_eq(pol["default"]["refused"], 2, "the default policy's counter")


@case
def counters_go_on_across_reload_restart_and_upgrade():
    with env() as e, tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "nfsguard.conf")
        with open(conf, "w") as f:
            f.write("[default]\nports = 2049\n")
        extra = ["--config", conf]
        agent = e.agent(extra=extra)
        e.attempt()
        check_eq(policy_counters(agent)["refused"], 1, "first")
        for n in (2, 3):   # two reloads: both generations are reused
            r = agent.cli("reload", "--json")
            check_eq(r.returncode, 0, f"reload: {r.stdout} {r.stderr}")
            check_eq(policy_counters(agent)["refused"], n - 1,
                     "the policy keeps its count across a reload")
            e.attempt()
        check_eq(policy_counters(agent)["refused"], 3, "after two reloads")
        agent.stop(signal.SIGTERM)
        agent = e.agent(extra=extra)
        check_eq(policy_counters(agent)["refused"], 3, "after a restart")
        e.attempt()
        agent.stop(signal.SIGTERM)
        agent = e.agent(binary=os.path.join(BUILD, "variant-abi", "nfsguard"),
                        extra=extra)
        check_eq(policy_counters(agent)["refused"], 4,
                 "after an upgrade that rebuilds the maps")
        e.attempt()
        st = agent.status()
        check_eq((policy_counters(agent)["refused"],
                  st["counters"]["refused"]), (5, 5), "per policy and total")


def free_port():
    with socket.socket() as s:
        s.bind((V4, 0))
        return s.getsockname()[1]


@case
def prometheus_scrapes_the_metrics():
    prom, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prom or not promtool:
        raise Skip("no prometheus/promtool: apt-get install prometheus")
    with env() as e, tempfile.TemporaryDirectory() as d:
        port = free_port()
        agent = e.agent(extra=["--metrics", f"{V4}:{port}"])
        for _ in range(3):
            e.attempt()
        url = f"http://{V4}:{port}/metrics"
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        r = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 0, f"promtool check metrics: {r.stdout}{r.stderr}")
        conf = os.path.join(d, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                    "  - job_name: nfsguard\n    static_configs:\n"
                    f"      - targets: ['{V4}:{port}']\n")
        web = free_port()
        p = subprocess.Popen([prom, f"--config.file={conf}",
                              f"--storage.tsdb.path={d}/data",
                              f"--web.listen-address={V4}:{web}"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            q = (f"http://{V4}:{web}/api/v1/query?query="
                 "nfsguard_connects_refused_total")
            got = []

            def scraped():
                try:
                    res = json.loads(urllib.request.urlopen(q, timeout=5)
                                     .read())["data"]["result"]
                except OSError:
                    return False
                got[:] = [float(x["value"][1]) for x in res]
                return bool(got)
            wait_for(scraped, "prometheus to scrape the agent", timeout=60)
            check_eq(got, [3.0], "nfsguard_connects_refused_total in prometheus")
        finally:
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        check(f'nfsguard_policy_connects_total{{policy="default",family="inet",verdict="refused"}} 3'
              in text, "the per-policy counter")


def metric_values(text, name):
    """{labels: value} of metric name in an exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name):].rsplit(" ", 1)
            out[labels] = int(value)
    return out


@case
def counters_by_policy_and_family():
    """IPv4 and IPv6 refusals (a v4-mapped connect is connect6's) and an
    allowed connect land in their family's series, exactly."""
    promtool = shutil.which("promtool")
    with env() as e:
        port = free_port()
        agent = e.agent(extra=["--metrics", f"{V4}:{port}"])
        for addr, uid, want in ((V4, UNPRIV, "EPERM"), (V4, UNPRIV, "EPERM"),
                                ("::1", UNPRIV, "EPERM"),
                                ("::ffff:127.0.0.1", UNPRIV, "EPERM"),
                                ("::1", UNPRIV, "EPERM"), (V4, None, "ok")):
            check_eq(connect(e.netns, e.cg, addr, NFS_PORT, uid=uid)["result"],
                     want, f"{addr} as uid {uid}")
        text = urllib.request.urlopen(f"http://{V4}:{port}/metrics",
                                      timeout=10).read().decode()
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
            check_eq(r.returncode, 0, f"promtool: {r.stdout}{r.stderr}")
        want = {}
        for fam, counts in (("inet", (1, 2, 0)), ("inet6", (0, 3, 0))):
            for verdict, n in zip(("allowed", "refused", "audited"), counts):
                want[f'{{policy="default",family="{fam}",verdict="{verdict}"}}'] = n
        check_eq(metric_values(text, "nfsguard_policy_connects_total"), want,
                 "the per-policy series by family")
        pol = {p["name"]: p for p in agent.status()["policies"]}["default"]
        check_eq(pol["families"],
                 {"inet": {"allowed": 1, "refused": 2, "audited": 0},
                  "inet6": {"allowed": 0, "refused": 3, "audited": 0}},
                 "status --json by family")
        check_eq(pol["counters"], {"allowed": 1, "refused": 5, "audited": 0},
                 "status --json over both families")


def start_with_broken_stdout(argv):
    """An agent whose stdout pipe is closed once it is ready."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    err = []

    def read():
        for line in p.stderr:
            err.append(line)
    t = threading.Thread(target=read, daemon=True)
    t.start()
    wait_for(lambda: any("enforcing on cgroup" in l for l in err)
             or p.poll() is not None, "the agent to start")
    p.stdout.close()
    return p, err


@case
def a_broken_stdout_leaves_enforcement_and_readers_working():
    with env() as e:
        ctl = os.path.join(tempfile.mkdtemp(prefix="nfsg-ctl-"), "control")
        p, _ = start_with_broken_stdout(
            [nfsguard(), "run", "--cgroup", e.cg.rel, "--persist", "--pin-dir",
             e.pins, "--json", "--control", ctl])
        try:
            fake = Agent([])
            fake.control = ctl
            reader = Reader(fake)
            wait_for(lambda: fake.status()["readers"] == 1, "the reader")
            for _ in range(5):
                check_eq(e.attempt()["result"], "EPERM", "enforcing")
            time.sleep(0.5)
            check(p.poll() is None, "the service agent goes on")
            wait_for(lambda: len(reader.of("connect")) == 5, "the reader's events")
            r = fake.cli("reload", "--json")
            check_eq(r.returncode, 0, "reload answered")
            check_eq(reader.close(), 0, "reader exit")
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(10)
            shutil.rmtree(os.path.dirname(ctl), ignore_errors=True)
    with Cgroup() as cg, env() as e2:
        p, _ = start_with_broken_stdout(
            [nfsguard(), "run", "--cgroup", cg.rel, "--json", "--control",
             "none"])
        try:
            e2.cg = cg
            e2.attempt()
            rc = p.wait(10)
            check(rc != 0, f"the foreground agent exits non-zero: {rc}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


@case
def a_vanished_attach_point_is_reported():
    top = Cgroup()
    top.__enter__()
    try:
        with Agent(["--cgroup", top.rel, "--json"]) as a:
            check_eq(a.status()["attach_point_present"], True, "at first")
            os.rmdir(top.path)
            wait_for(lambda: a.status()["attach_point_present"] is False,
                     "status to say the attach point is gone", timeout=10)
            check(a.proc.poll() is None, "the agent goes on")
    finally:
        if os.path.exists(top.path):
            top.__exit__(None, None, None)


@case
def trace_follows_a_running_service_with_repeated_filters():
    with env() as e:
        agent = e.agent()
        p = subprocess.Popen([nfsguard(), "trace", "--control", agent.control,
                              "--json", "--uid", "0", "--uid", str(UNPRIV)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            wait_for(lambda: agent.status()["readers"] == 1, "trace as a reader")
            r = e.attempt()
            line = json.loads(p.stdout.readline())
            check_eq((line["type"], line["pid"], line["uid"]),
                     ("connect", r["pid"], UNPRIV), "the service's event")
        finally:
            p.send_signal(signal.SIGINT)
            check_eq(p.wait(10), 0, "trace exit")
        other = Reader(agent, "--uid", "0", "--uid", "4242,4243")
        wait_for(lambda: agent.status()["readers"] == 1, "the filtered reader")
        e.attempt()
        mine = Reader(agent, "--uid", "0", "--uid", f"4242,{UNPRIV}")
        wait_for(lambda: agent.status()["readers"] == 2, "the second reader")
        r = e.attempt()
        wait_for(lambda: mine.of("connect"), "the matching reader's event")
        time.sleep(0.3)
        check_eq([x["pid"] for x in mine.of("connect")], [r["pid"]],
                 "a repeated --uid adds to the earlier ones")
        check_eq(other.of("connect"), [], "no uid of the filter matched")
        other.close()
        mine.close()


def write_conf(d, text):
    """Write text as d/nfsguard.conf; its path."""
    path = os.path.join(d, "nfsguard.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def serves_metrics(port):
    """Does http://127.0.0.1:port/metrics answer with nfsguard's?"""
    try:
        text = urllib.request.urlopen(f"http://{V4}:{port}/metrics",
                                      timeout=5).read().decode()
    except OSError:
        return False
    return "nfsguard_build_info" in text


@case
def metrics_from_the_configuration_and_the_option_wins():
    """[agent] metrics serves /metrics; --metrics beats it; a reload that
    changes it answers ok with a warning naming its line, and the address
    stays until a restart."""
    with env() as e, tempfile.TemporaryDirectory() as d:
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        p_file, p_opt, p_new = sorted(ports)
        conf = write_conf(d, f"[default]\nports = 2049\n[agent]\nmetrics = {V4}:{p_file}\n")
        agent = e.agent(extra=["--config", conf])
        check(serves_metrics(p_file), "metrics at the file's address")
        write_conf(d, f"[default]\nports = 2049\n\n[agent]\nmetrics = {V4}:{p_new}\n")
        r = agent.cli("reload", "--json")
        check_eq(r.returncode, 0, f"reload: {r.stdout} {r.stderr}")
        ans = json.loads(r.stdout)
        check_eq((ans["ok"], [w["line"] for w in ans["warnings"]]),
                 (True, [5]), "a good reload, warned at the metrics line")
        check((serves_metrics(p_file), serves_metrics(p_new)) == (True, False),
              "the running address stays until a restart")
        # A key removed has no line: the message names the file alone.
        write_conf(d, "[default]\nports = 2049\n")
        ans = json.loads(agent.cli("reload", "--json").stdout)
        check_eq([(w["line"], w["message"].split(" ")[0])
                  for w in ans["warnings"]], [(0, f"{conf}:")],
                 "the removed key's warning")
        check(serves_metrics(p_file), "the running address stays")
        agent.stop(signal.SIGTERM)
        agent = e.agent(extra=["--config", conf, "--metrics", f"{V4}:{p_opt}"])
        check_eq((serves_metrics(p_opt), serves_metrics(p_new)), (True, False),
                 "the option beats the file")
        r = agent.cli("reload", "--json")
        check_eq(json.loads(r.stdout)["warnings"], [],
                 "an unchanged file: no warning")


@case
def bad_agent_settings_stop_the_start_at_their_line():
    with env() as e, tempfile.TemporaryDirectory() as d:
        conf = write_conf(d, "[agent]\ncontrol_group = nfsguard\n"
                          "metrics = localhost:9108\n")
        r = subprocess.run([nfsguard(), "run", "--cgroup", e.cg.rel,
                            "--config", conf, "--control", "none"],
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 1, "exit status of a bad file")
        check_eq([l.split(" ")[1] for l in r.stderr.splitlines()
                  if conf in l], [f"{conf}:3:"], "the one bad line, named")
        r = subprocess.run([nfsguard(), "check", conf], capture_output=True,
                           text=True, timeout=60)
        check_eq(r.returncode, 1, "nfsguard check agrees")


NO_GROUP = "nfsg-nosuchgroup"


@case
def a_control_group_that_does_not_exist_fails_check_and_warns_a_reload():
    """The parser takes any group's name; check asks the system too, since
    the next start would fail on it. A reload keeps the running socket and
    lists the line among its warnings."""
    if subprocess.run(["getent", "group", NO_GROUP]).returncode == 0:
        raise Skip(f"group {NO_GROUP} exists here")
    with env() as e, tempfile.TemporaryDirectory() as d:
        conf = write_conf(d, "[default]\nports = 2049\n")
        agent = e.agent(extra=["--config", conf])
        write_conf(d, f"[default]\nports = 2049\n[agent]\n"
                      f"control_group = {NO_GROUP}\n")
        r = subprocess.run([nfsguard(), "check", conf], capture_output=True,
                           text=True, timeout=60)
        check_eq((r.returncode, r.stdout), (1, ""), "check's exit, output")
        check_eq([l.split(" ")[1] for l in r.stderr.splitlines()
                  if conf in l], [f"{conf}:4:"], "the line, named")
        r = agent.cli("reload", "--json")
        check_eq(r.returncode, 0, f"reload: {r.stdout} {r.stderr}")
        ans = json.loads(r.stdout)
        check_eq((ans["ok"], sorted({w["line"] for w in ans["warnings"]})),
                 (True, [4]), "a good reload, warned at the group's line")
        st = os.stat(agent.control)
        check_eq((st.st_gid, st.st_mode & 0o777), (0, 0o600),
                 "the running socket stays root's")


GROUP, GROUP_GID = "nogroup", 65534     # a group uid 1000 is not in


def as_uid(uid, gid, groups=None):
    """setpriv's argv for uid with primary gid and exactly groups."""
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}"] + (
        [f"--groups={','.join(map(str, groups))}"] if groups
        else ["--clear-groups"])


def ask_raw(path, request, wrap):
    """One request, as the wrapped user, through Python's socket."""
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
            "s.connect(sys.argv[1]);s.sendall(sys.argv[2].encode()+b'\\n')\n"
            "print(s.makefile().readline(),end='')")
    r = subprocess.run(wrap + ["/usr/bin/python3", "-c", code, path, request],
                       capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout) if r.stdout else None


@case
def control_group_members_may_use_the_socket_and_others_not():
    with env() as e, tempfile.TemporaryDirectory() as d:
        agent = e.agent(extra=["--control-group", GROUP])
        os.chmod(agent.ctl_dir, 0o755)   # the socket's mode decides alone
        st = os.stat(agent.control)
        check_eq((st.st_uid, st.st_gid, st.st_mode & 0o777),
                 (0, GROUP_GID, 0o660), "the socket's owner, group and mode")
        for what, wrap in (
                ("supplementary", as_uid(UNPRIV, UNPRIV, [GROUP_GID])),
                ("primary", as_uid(UNPRIV, GROUP_GID))):
            r = subprocess.run(wrap + [nfsguard(), "status", "--control",
                                       agent.control, "--json"],
                               capture_output=True, text=True, timeout=60)
            check_eq((r.returncode, json.loads(r.stdout)["pid"]),
                     (0, agent.proc.pid), f"status as a {what} member")
        member = as_uid(UNPRIV, UNPRIV, [GROUP_GID])
        reader = subprocess.Popen(member + [nfsguard(), "events", "--control",
                                            agent.control, "--json"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        try:
            wait_for(lambda: agent.status()["readers"] == 1, "the reader")
            check_eq(e.attempt()["result"], "EPERM", "uid 1000 refused")
            line = json.loads(reader.stdout.readline())
            check_eq((line["type"], line["uid"]), ("connect", UNPRIV),
                     "the member's reader gets the event")
        finally:
            reader.kill()
            reader.wait()
        a = ask_raw(agent.control, json.dumps(
            {"cmd": "uninstall", "pin_dir": e.pins}), member)
        check_eq({k: a.get(k) for k in ("ok", "type", "reason", "pin_dir")},
                 {"ok": False, "type": "uninstall", "reason": "not_root",
                  "pin_dir": e.pins}, "uninstall is root's alone")
        check(os.path.isdir(e.pins), "the pins stay")
        outsider = as_uid(UNPRIV, UNPRIV)
        r = subprocess.run(outsider + [nfsguard(), "status", "--control",
                                       agent.control, "--json"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and not r.stdout,
              f"a non-member got an answer: {r.returncode} {r.stdout!r}")
        check_eq(ask_raw(agent.control, '{"cmd":"status"}', outsider), None,
                 "a non-member's raw request")
        agent.stop(signal.SIGTERM)
        # The same group from the configuration.
        conf = write_conf(d, f"[agent]\ncontrol_group = {GROUP}\n")
        agent = e.agent(extra=["--config", conf])
        st = os.stat(agent.control)
        check_eq((st.st_gid, st.st_mode & 0o777), (GROUP_GID, 0o660),
                 "the configuration's control_group")


@case
def journal_lines_carry_their_priority():
    """With stderr the journal (JOURNAL_STREAM names it), each diagnostic
    line starts with its sd-daemon priority: <3> error, <4> warning, <6>
    info, <7> debug; with another stream named, none does."""
    with Cgroup() as cg, tempfile.TemporaryDirectory() as d:
        conf = write_conf(d, "[default]\nports = 2049\n")
        for named in (True, False):
            rfd, wfd = os.pipe()
            # The agent's own stderr, or another file's dev:ino.
            st = os.fstat(wfd) if named else os.stat(conf)
            env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
            ctl = tempfile.mkdtemp(prefix="nfsg-ctl-")
            os.chmod(ctl, 0o755)
            control = os.path.join(ctl, "control")
            p = subprocess.Popen([nfsguard(), "run", "--cgroup", cg.rel,
                                  "--config", conf, "--log-level", "debug",
                                  "--control", control],
                                 stdout=subprocess.DEVNULL, stderr=wfd,
                                 env=env)
            os.close(wfd)
            lines = []
            reader = threading.Thread(target=lambda: lines.extend(
                os.fdopen(rfd, errors="replace").read().splitlines()))
            reader.start()
            try:
                wait_for(lambda: os.path.exists(control), "the agent")
                run_cli = lambda *a: subprocess.run(
                    [nfsguard(), *a, "--control", control],
                    capture_output=True, text=True, timeout=60)
                wait_for(lambda: run_cli("status").returncode == 0,
                         "the agent's answer")                 # debug
                with open(conf, "a") as f:     # takes a restart: warning
                    f.write(f"[agent]\ncontrol_group = {GROUP}\n")
                check_eq(run_cli("reload").returncode, 0, "a good reload")
                write_conf(d, "[default]\nports = 0\n")
                check_eq(run_cli("reload").returncode, 1, "a bad reload")  # error
                write_conf(d, "[default]\nports = 2049\n")
            finally:
                p.send_signal(signal.SIGTERM)
                rc = p.wait(30)
                reader.join(10)
                shutil.rmtree(ctl, ignore_errors=True)
            check_eq(rc, 0, "the agent's exit status")
            prio = [l[1] if l[:1] == "<" and l[2:3] == ">" else None
                    for l in lines]
            if named:
                check_eq([l for l, q in zip(lines, prio) if q is None], [],
                         "lines without a priority")
                check_eq(sorted(set(prio)), ["3", "4", "6", "7"],
                         "the priorities of error, warning, info and debug")
            else:
                check_eq(set(prio), {None}, "no priority off the journal")
