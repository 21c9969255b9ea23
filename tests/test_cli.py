# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The agent's command line and lifecycle, against the real kernel.

Bad input gets a clear error and a non-zero exit, and leaves the policy an
agent already enforces in place. SIGTERM and SIGINT detach everything.
Both cgroup layouts (hybrid and unified-only) work.
"""
import contextlib
import re
import os
import shutil
import signal
import subprocess
import tempfile
import time

from fixtures import (Agent, Cgroup, NFS_PORT, Netns, UNPRIV, attached_progs,
                      connect, nfsguard, prog_exists, progs_of)
from harness import Row, Skip, case, check, check_eq, table

V4 = "127.0.0.1"
HOOKS = ["nfsg_connect4", "nfsg_connect6", "nfsg_egress", "nfsg_sendmsg4",
         "nfsg_sendmsg6"]
WATCHERS = ["nfsg_cg_mkdir", "nfsg_cg_rmdir"]
ITERATORS = ["nfsg_iter_files", "nfsg_iter_tcp", "nfsg_iter_tcp_d",
             "nfsg_iter_udp", "nfsg_iter_udp_d"]

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
                # The iterators: TCP's and UDP's, the builds that abort or
                # the others, and the holders' (task_file).
                iters = sorted(n for n in loaded if n in ITERATORS)
                check(iters in (["nfsg_iter_files", "nfsg_iter_tcp",
                                 "nfsg_iter_udp"],
                                ["nfsg_iter_files", "nfsg_iter_tcp_d",
                                 "nfsg_iter_udp_d"]),
                      f"the iterators loaded: {iters}")
                check_eq(sorted(n for n in loaded if n not in ITERATORS),
                         sorted(HOOKS + WATCHERS), "loaded")
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
            r = connect(ns, cg, "::ffff:127.0.0.1", NFS_PORT, uid=UNPRIV)
            check_eq(agent.stop(), 0, "exit status")
        check(agent.out and agent.out[0].split()[:3] == ["PID", "COMM", "UID"],
              f"header: {agent.out[:1]}")
        head = agent.out[0]
        rows = [l for l in agent.out[1:] if l.split()[0] == str(r["pid"])]
        check_eq(len(rows), 1, f"rows for pid {r['pid']} in {agent.out}")
        row = rows[0].split()
        check_eq(row[1:7], ["nfsg-connect", str(UNPRIV), "::ffff:~7.0.0.1",
                            str(NFS_PORT), "refused", "owner"], "text row")
        check(cg.rel.startswith(row[7].split("~")[0]), f"cgroup {row[7]}")
        # 80 columns, every field where the header puts its name.
        for line in agent.out:
            check(len(line) <= 80, f"{len(line)} columns: {line!r}")
        for name in ("DADDR", "VERDICT", "REASON", "CGROUP"):
            at = head.index(name)
            check(rows[0][at] != " " and rows[0][at - 1] == " ",
                  f"{name} misaligned: {head!r} / {rows[0]!r}")


def nice_of(pid):
    """A process's nice value: field 19 of /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rpartition(")")[2].split()[16])


@case
def the_agent_runs_above_normal_priority():
    """Nice -4, as auditd's priority_boost, in every thread: the event
    path must not lose the CPU to a flood of the connects it reports. A
    start at a better nice value keeps it."""
    base = os.nice(0)    # nice -n is relative to the caller's
    with Cgroup() as cg:
        for start, want in ((0, -4), (-10, -10)):
            with Agent(["--cgroup", cg.rel],
                       wrap=["nice", "-n", str(start - base)]) as agent:
                pid = agent.proc.pid
                tasks = os.listdir(f"/proc/{pid}/task")
                check_eq(sorted({nice_of(f"{pid}/task/{t}") for t in tasks}),
                         [want], f"nice of the agent's threads, started at "
                         f"{start}")
                check_eq(agent.stop(), 0, "exit status")


# More refusals than the ring buffer (4 MiB of 112-byte records) holds.
FLOOD = 60000


def dropped_records(agent):
    return [e for e in agent.events() if e.get("type") == "dropped"]


@case
def a_stalled_agent_says_what_the_ring_buffer_dropped():
    """The agent stopped (SIGSTOP), the programs go on refusing and the
    ring buffer fills. Running again, the agent says how many events were
    lost while it still runs, and every refusal is either printed or
    counted as dropped, in its output and in its counters alike."""
    with Netns() as ns, Cgroup() as cg:
        with Agent(["--cgroup", cg.rel, "--json", "--rate", "0"]) as agent:
            agent.proc.send_signal(signal.SIGSTOP)
            try:
                r = connect(ns, cg, V4, NFS_PORT, uid=UNPRIV,
                            extra=["--count", str(FLOOD)], timeout=120)
            finally:
                agent.proc.send_signal(signal.SIGCONT)
            check_eq((r["count"], r["EPERM"]), (FLOOD, FLOOD),
                     "every connect refused")
            deadline = time.monotonic() + 30
            while not dropped_records(agent) and time.monotonic() < deadline:
                time.sleep(0.1)
            check(dropped_records(agent),
                  "no dropped record while the agent runs")
            counters = agent.status()["counters"]
            check_eq(agent.stop(), 0, "exit status")
        lost = sum(e["count"] for e in dropped_records(agent))
        printed = [e for e in agent.events()
                   if e.get("verdict") == "refused" and e.get("pid") == r["pid"]]
        check(lost > 0, "the flood overflowed the ring buffer")
        check_eq(counters["events_dropped"], lost,
                 "dropped counter against the dropped records")
        check_eq(counters["refused"], FLOOD, "refused counter")
        check_eq(len(printed) + lost, FLOOD,
                 "refusals printed or counted as dropped")


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


# The rough edges of a first day: each a row, with its exit status and the
# stable part of its message (the cause), not a whole sentence.
BIG = 5 << 20


def cli(args, status, out=(), err=(), not_err=(), uid=None, wrap=(),
        files=None, seconds=10):
    def act(env):
        argv = [a.format(**env.paths) for a in args]
        t0 = time.monotonic()
        r = run_cli(argv, uid=uid, wrap=wrap)
        took = time.monotonic() - t0
        check(r.returncode != 99, f"test set-up failed: {r.stderr!r}")
        check_eq(r.returncode, status, f"exit status ({r.stderr.strip()!r})")
        for w in out:
            check(w in r.stdout, f"{w!r} not in stdout {r.stdout[:400]!r}")
        for w in err:
            check(w in r.stderr, f"{w!r} not in stderr {r.stderr[:400]!r}")
        for w in not_err:
            check(w not in r.stderr + r.stdout, f"{w!r} in {r.stderr!r}")
        if status:
            check_eq(len(r.stderr.strip().splitlines()), 1,
                     f"one line naming the cause: {r.stderr[:400]!r}")
        check(took < seconds, f"took {took:.1f}s")
    return act


class Files:
    """Configuration files for the rows, in a directory uid 1000 can read."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nfsg-cli-")
        os.chmod(self.dir, 0o755)
        self.paths = {"dir": self.dir}
        self.add("twice", "[default]\nmode = audit\nports = 2049\nmode = enforce\n")
        self.add("lists", "[default]\nports = 2049\nports = 20048\n"
                 "[policy p]\ncgroups = /a\ncgroups = /b\n")
        self.add("many", "".join(f"[policy p{i}]\n" for i in range(200000)))
        path = os.path.join(self.dir, "big.conf")
        with open(path, "w") as f:
            f.truncate(BIG)
        self.paths["big"] = path

    def add(self, name, text):
        path = os.path.join(self.dir, name + ".conf")
        with open(path, "w") as f:
            f.write(text)
        self.paths[name] = path

    def finish(self):
        pass


@contextlib.contextmanager
def files():
    f = Files()
    try:
        yield f
    finally:
        shutil.rmtree(f.dir, ignore_errors=True)


# The default path, hidden: the embedded default is what would apply.
NO_DEFAULT_CONF = ("[ ! -e /etc/nfsguard ] || "
                   "mount -t tmpfs none /etc/nfsguard || exit 99")
SUDO = shutil.which("sudo") is not None

table("first_day", files, [
    Row("check_a_directory", cli(["check", "{dir}"], 1,
                                 err=["is a directory"])),
    Row("check_dev_zero_ends_at_once", cli(["check", "/dev/zero"], 1,
                                           err=["is not a regular file"],
                                           seconds=3)),
    Row("check_a_file_over_4_mib", cli(["check", "{big}"], 1,
                                       err=["more than the 4 MiB"])),
    Row("check_200000_policies_one_line_fast",
        cli(["check", "{many}"], 1,
            err=["too many policies (200000, at most 1023)"], seconds=5)),
    Row("check_a_single_key_twice_names_both_lines",
        cli(["check", "{twice}"], 1,
            err=[":4: mode: given twice", "lines 2 and 4"])),
    Row("check_list_keys_add_up", cli(["check", "{lists}"], 0,
                                      out=["ports 2049,20048", "cgroup /b"])),
    Row("check_without_a_file_says_embedded_default",
        cli(["check"], 0, out=["embedded default policy would apply"],
            not_err=["valid"], wrap=in_mount_ns(NO_DEFAULT_CONF))),
    Row("check_missing_file_no_config_hint",
        cli(["check", "{dir}/missing.conf"], 1, err=["no such file"],
            not_err=["--config"])),
    Row("check_policy_by_name", cli(["check", "{lists}", "--policy", "p"], 0,
                                    out=["  p  "], not_err=["default "])),
    Row("check_unknown_policy", cli(["check", "{lists}", "--policy", "q"], 1,
                                    err=["no policy 'q'"])),
    Row("run_a_directory_as_config", cli(["run", "--config", "{dir}"], 1,
                                         err=["is a directory"])),
    Row("status_as_a_user_hint_names_status",
        cli(["status"], 1, uid=UNPRIV,
            err=["missing privileges",
                 "sudo nfsguard status" if SUDO else "root shell"],
            not_err=["nfsguard run"])),
    Row("run_help_has_no_trace_only_options",
        cli(["run", "--help"], 0, out=["Exit status:", "--trace"],
            not_err=["--attach"])),
    Row("trace_help_cgroup_attaches_subtree_filters",
        cli(["trace", "--help"], 0,
            out=["Exit status:", "--cgroup=PATH", "--subtree=PATH"],
            not_err=["--attach", "--trace "])),
    Row("help_of_every_command_shows_exit_status", lambda env: every_help(env)),
])

COMMANDS = ["run", "trace", "check", "status", "reload", "events",
            "uninstall", "probe", "sockets"]


def every_help(env):
    for c in [[]] + [[c] for c in COMMANDS]:
        cli(c + ["--help"], 0, out=["Exit status:", "  64  bad arguments"])(env)


@case
def agent_first_line_names_its_configuration():
    with Netns(), Cgroup() as cg, files() as f:
        with Agent(["--cgroup", cg.rel, "--config", f.paths["lists"]]) as a:
            check_eq(a.stop(), 0, "exit status")
        check(a.err and "configuration: " + f.paths["lists"] in a.err[0],
              f"first line: {a.err[:2]}")
        wrap = in_mount_ns(NO_DEFAULT_CONF)
        with Agent(["--cgroup", cg.rel], wrap=wrap) as a:
            check_eq(a.stop(), 0, "exit status")
        check(a.err and "embedded default policy" in a.err[0],
              f"first line: {a.err[:2]}")


@case
def policy_outside_the_attach_point_is_warned_about():
    with Netns(), Cgroup() as top, Cgroup(top) as sub, files() as f:
        f.add("outside", f"[policy inside]\ncgroups = {sub.rel}\n"
              "[policy elsewhere]\ncgroups = /nfsg-elsewhere\n")
        with Agent(["--cgroup", top.rel, "--config",
                    f.paths["outside"]]) as a:
            check_eq(a.stop(), 0, "exit status")
        warned = [l for l in a.err if "warning:" in l]
        check_eq(len(warned), 1, f"warnings: {a.err}")
        check("'elsewhere'" in warned[0] and "/nfsg-elsewhere" in warned[0],
              warned[0])


# Bash completion as bash runs it: compgen through the script's function.
COMPLETION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "user", "nfsguard.bash-completion")


def complete(*words):
    line = " ".join(words)
    script = (
        "source /usr/share/bash-completion/bash_completion; "
        f"source {COMPLETION}; "
        f'PATH={os.path.dirname(nfsguard())}:$PATH; '
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}; COMP_LINE={line!r}; "
        f"COMP_POINT={len(line)}; "
        f"_nfsguard nfsguard {words[-1]!r} {words[-2]!r}; "
        'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                       timeout=30)
    check_eq(r.returncode, 0, f"bash: {r.stderr}")
    return sorted(w for w in r.stdout.split("\n") if w)


@case
def bash_completion_of_commands_options_and_policies():
    if not os.path.exists("/usr/share/bash-completion/bash_completion"):
        raise Skip("bash-completion is not installed: make deps-test")
    if os.environ.get("NFSG_GUEST"):
        # Shell completion does not depend on the kernel; a guest's
        # overlay root is no place to judge bash's directory listing.
        raise Skip("completion is the same on every kernel: make test covers it")
    check_eq(complete("nfsguard", "st"), ["status"], "commands")
    check_eq(complete("nfsguard", "run", "--per"), ["--persist"], "run options")
    check_eq(complete("nfsguard", "trace", "--su"), ["--subtree"],
             "trace options")
    check("--attach" not in complete("nfsguard", "run", "--"),
          "run completes trace-only options")
    with files() as f:
        f.add("names", "[policy kube]\ncgroups = /k\n[policy ci]\n"
              "cgroups = /c\n")
        check_eq(complete("nfsguard", "check", f.paths["names"], "--policy",
                          ""), ["ci", "kube"], "policy names")
    with Cgroup() as cg:
        check(cg.rel + "/" in complete("nfsguard", "run", "--cgroup",
                                       cg.rel[:-2]), "cgroup paths")


# The man page against --help: every command, and each one's options.
MAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "user",
                   "nfsguard.8")


def help_options(cmd):
    r = run_cli([cmd, "--help"])
    check_eq(r.returncode, 0, f"{cmd} --help")
    return {m.group(1) for m in re.finditer(r"^\s+(?:-\S, )?--([a-z][a-z-]*)",
                                            r.stdout, re.M)} - {
        "help", "usage", "version"}


def man_page():
    with open(MAN) as f:
        text = f.read()
    per = {}
    parts = re.split(r'^\.SS\s+"?([^"\n]*?)"?\s*$', text, flags=re.M)
    for title, body in zip(parts[1::2], parts[2::2]):
        body = body.split("\n.SH", 1)[0]
        names = re.findall(r"^\.TP\n\.BR? [^\n]*?\\-\\-((?:[a-z]|\\-)+)", body,
                           re.M)
        for cmd in title.split(":")[0].split(","):
            per.setdefault(cmd.strip(), set()).update(
                n.replace("\\-", "-") for n in names)
    return text, per


@case
def man_page_matches_every_commands_help():
    text, per = man_page()
    top = run_cli(["--help"]).stdout
    listed = re.findall(r"^  ([a-z]+)  ", top.split("Commands:")[1]
                        .split("\n\n")[0], re.M)
    check_eq(sorted(listed), sorted(COMMANDS), "commands in --help")
    for cmd in COMMANDS:
        check(f".TP\n.B {cmd}\n" in text, f"{cmd} not in COMMANDS")
        check_eq(sorted(per.get(cmd, set())), sorted(help_options(cmd)),
                 f"options of {cmd}: man page against --help")
    for section in ("SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS",
                    "EXAMPLES", "FILES", "EXIT STATUS", "SEE ALSO"):
        check(re.search(rf'^\.SH "?{section}"?$', text, re.M),
              f"no {section} section")
    codes = re.findall(r"^\.TP\n\.B (\d+)$",
                       text.split(".SH EXIT STATUS")[1].split(".SH")[0], re.M)
    check_eq(codes, ["0", "1", "3", "4", "64"], "exit statuses")


@case
def make_uninstall_removes_what_install_put_and_only_that():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    build = os.path.dirname(nfsguard())
    with tempfile.TemporaryDirectory() as dest:
        keep = os.path.join(dest, "usr", "local", "sbin", "other-tool")
        os.makedirs(os.path.dirname(keep))
        open(keep, "w").close()

        def make(target):
            r = subprocess.run(["make", "-s", "-C", root, f"OUTPUT={build}",
                                f"DESTDIR={dest}", target],
                               capture_output=True, text=True, timeout=300)
            check_eq(r.returncode, 0, f"make {target}: {r.stderr}")
            return r.stdout

        def files():
            return sorted(os.path.relpath(os.path.join(d, f), dest)
                          for d, _, fs in os.walk(dest) for f in fs)
        make("install")
        installed = files()
        check("etc/nfsguard/nfsguard.conf" in installed and
              "usr/local/share/bash-completion/completions/nfsguard" in installed,
              f"installed: {installed}")
        out = make("uninstall")
        check_eq(files(), ["usr/local/sbin/other-tool"], "after uninstall")
        check(not os.path.exists(os.path.join(dest, "etc", "nfsguard")),
              "the configuration's directory is left")
        check("REMOVE" in out, out)
        make("install")
        with open(os.path.join(dest, "etc/nfsguard/nfsguard.conf"), "a") as f:
            f.write("# a change of the admin's\n")
        out = make("uninstall")
        check("KEEP" in out and "changed" in out, out)
        check_eq(files(), ["etc/nfsguard/nfsguard.conf",
                           "usr/local/sbin/other-tool"], "a changed config kept")
