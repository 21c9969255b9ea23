# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Attacks by an unprivileged user on what nfsguard trusts (issue 10).

A pin directory a user owns, a symbolic link for one, and entries planted
in one are refused at start, with nothing attached and nothing deleted;
uninstall never follows a link. A cgroup path and a comm full of control
bytes come out escaped in text and as valid JSON lines, one event a line.
Each row makes its own pin directory under bpffs (never the default one),
its own cgroups and netns, and removes them even when it fails.
"""
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from fixtures import (BUILD, Cgroup, NFS_PORT, Netns, UNPRIV,
                      attached_progs, cgroup2_mount, connect_helper,
                      nfsguard, sh, unique)
from harness import Row, case, check, check_eq, table

V4 = "127.0.0.1"
BPFFS = "/sys/fs/bpf"
AS_USER = ["setpriv", f"--reuid={UNPRIV}", f"--regid={UNPRIV}",
           "--clear-groups"]
FOREIGN_OBJ = os.path.join(BUILD, "tests", "foreign.bpf.o")


def ensure_bpffs():
    with open("/proc/mounts") as f:
        if any(l.split()[1] == BPFFS and l.split()[2] == "bpf" for l in f):
            return
    sh("mount", "-t", "bpf", "bpf", BPFFS)


def remove_tree(path):
    """rm -r that never follows a link (bpffs pins unlink like files)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not os.path.isdir(path) or os.path.islink(path):
        os.unlink(path)
        return
    if st.st_uid == 0:
        os.chmod(path, 0o700)
    for name in os.listdir(path):
        remove_tree(os.path.join(path, name))
    os.rmdir(path)


def pin_foreign(path):
    """Someone's BPF program, pinned at path: not a link, not a map."""
    sh("bpftool", "prog", "load", FOREIGN_OBJ, path, "type", "cgroup/connect4")


def tree(path):
    """{relative name: (uid, mode)} of everything under path, links unfollowed."""
    out = {}
    for name in sorted(os.listdir(path)):
        st = os.lstat(os.path.join(path, name))
        out[name] = (st.st_uid, st.st_mode)
    return out


class PinEnv:
    """A test cgroup, and pin-directory names under bpffs, cleaned up."""

    def __init__(self, stack):
        ensure_bpffs()
        self.cg = stack.enter_context(Cgroup())
        self.paths = []
        stack.callback(self.cleanup)

    def name(self, stem):
        p = os.path.join(BPFFS, unique(stem))
        self.paths.append(p)
        return p

    def start(self, pin_dir):
        return subprocess.run([nfsguard(), "run", "--control", "none",
                               "--persist", "--pin-dir",
                               pin_dir, "--cgroup", self.cg.rel, "--json"],
                              capture_output=True, text=True, timeout=30)

    def uninstall(self, pin_dir):
        return subprocess.run([nfsguard(), "uninstall", "--pin-dir", pin_dir],
                              capture_output=True, text=True, timeout=30)

    def cleanup(self):
        for p in reversed(self.paths):
            if os.path.isdir(p) and not os.path.islink(p):
                # Whatever a row left pinned must not go on enforcing.
                self.uninstall(p)
            remove_tree(p)

    def finish(self):
        pass


@contextlib.contextmanager
def pin_env():
    with contextlib.ExitStack() as stack:
        yield PinEnv(stack)


def refused_start(env, pin_dir, kept):
    """Start on pin_dir: refused, nothing attached, kept (paths) intact."""
    before = {p: os.lstat(p) for p in kept}
    contents = {p: tree(p) for p in kept
                if os.path.isdir(p) and not os.path.islink(p)}
    r = env.start(pin_dir)
    check_eq(r.returncode, 1, f"exit status ({r.stderr.strip()!r})")
    check_eq(r.stdout, "", "stdout of a refused start")
    errors = [l for l in r.stderr.splitlines() if pin_dir in l]
    check_eq(len(errors), 1, f"lines naming {pin_dir}: {r.stderr!r}")
    check_eq(attached_progs(env.cg), {}, "programs attached to the cgroup")
    for p, st in before.items():
        now = os.lstat(p)
        check_eq((now.st_ino, now.st_uid, now.st_mode),
                 (st.st_ino, st.st_uid, st.st_mode), f"{p} unchanged")
    for p, t in contents.items():
        check_eq(tree(p), t, f"entries of {p}")


def user_owned_dir(env):
    d = env.name("user-owned")
    sh(*AS_USER, "mkdir", d)
    # What the user would delete once root's pins landed: a stand-in.
    sh(*AS_USER, "mkdir", os.path.join(d, "keep"))
    refused_start(env, d, [d, os.path.join(d, "keep")])


def symlinked_dir(env):
    real, link = env.name("real"), env.name("link")
    os.mkdir(real, 0o700)
    os.symlink(real, link)
    refused_start(env, link, [link, real])
    check_eq(os.listdir(real), [], "pins through the link")


def group_writable_dir(env):
    d = env.name("writable")
    os.mkdir(d)
    os.chmod(d, 0o770)
    refused_start(env, d, [d])


def planted_wrong_kind(env):
    d = env.name("planted-prog")
    os.mkdir(d, 0o700)
    pin_foreign(os.path.join(d, "link_connect4"))
    refused_start(env, d, [d])


def planted_by_user(env):
    """The directory was world-writable once: uid 1000 left an entry."""
    d = env.name("planted-user")
    os.mkdir(d)
    os.chmod(d, 0o777)
    sh(*AS_USER, "mkdir", os.path.join(d, "nfsg_meta"))
    os.chmod(d, 0o700)
    check_eq(os.lstat(os.path.join(d, "nfsg_meta")).st_uid, UNPRIV, "planted")
    refused_start(env, d, [d, os.path.join(d, "nfsg_meta")])


def planted_symlink(env):
    d = env.name("planted-link")
    os.mkdir(d, 0o700)
    target = env.name("target")
    os.mkdir(target, 0o700)
    pin_foreign(os.path.join(target, "prog"))
    os.symlink(os.path.join(target, "prog"), os.path.join(d, "nfsg_events"))
    refused_start(env, d, [d, target])


def fresh_dir_is_roots_0700(env):
    d = env.name("fresh")
    r = subprocess.Popen(
        [nfsguard(), "run", "--persist", "--pin-dir", d, "--cgroup",
         env.cg.rel, "--json", "--control", "none"], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        for line in r.stderr:
            if "enforcing on cgroup" in line:
                break
        st = os.lstat(d)
        check_eq((st.st_uid, st.st_mode & 0o7777), (0, 0o700), "owner, mode")
        check(attached_progs(env.cg), "attached")
    finally:
        r.send_signal(signal.SIGTERM)
        r.wait(30)
        r.stderr.close()
    u = env.uninstall(d)
    check_eq(u.returncode, 0, f"uninstall: {u.stderr}")
    check(not os.path.exists(d), "removed")


table("pin_dir_refused", pin_env, [
    Row("user_owned", user_owned_dir),
    Row("symlink", symlinked_dir),
    Row("group_writable", group_writable_dir),
    Row("planted_prog_under_a_link_name", planted_wrong_kind),
    Row("planted_by_another_uid", planted_by_user),
    Row("planted_symlink", planted_symlink),
    Row("fresh_is_roots_0700", fresh_dir_is_roots_0700),
])


def uninstall_symlink_to_pins(env):
    target = env.name("target")
    os.mkdir(target, 0o700)
    for n in ("link_connect4", "nfsg_meta"):
        pin_foreign(os.path.join(target, n))
    link = env.name("link")
    os.symlink(target, link)
    before = tree(target)
    r = env.uninstall(link)
    check_eq(r.returncode, 1, f"exit status ({r.stderr.strip()!r})")
    check_eq(tree(target), before, "the link's target")
    check(os.path.islink(link), "the link itself stays")


def uninstall_symlink_to_tmp(env):
    with tempfile.TemporaryDirectory() as tmp:
        for n in ("link_connect4", "nfsg_meta", "data"):
            with open(os.path.join(tmp, n), "w") as f:
                f.write("precious\n")
        link = env.name("tmp-link")
        os.symlink(tmp, link)
        r = env.uninstall(link)
        check_eq(r.returncode, 1, f"exit status ({r.stderr.strip()!r})")
        check_eq(sorted(os.listdir(tmp)), ["data", "link_connect4",
                                           "nfsg_meta"], "files in the target")


def uninstall_keeps_planted(env):
    """In a checked directory: a planted link and a wrong-kind pin stay."""
    d = env.name("mixed")
    os.mkdir(d, 0o700)
    pin_foreign(os.path.join(d, "nfsg_gen"))
    os.symlink("/etc/passwd", os.path.join(d, "nfsg_meta"))
    r = env.uninstall(d)
    check_eq(r.returncode, 1, f"exit status ({r.stderr.strip()!r})")
    check_eq(sorted(tree(d)), ["nfsg_gen", "nfsg_meta"], "entries kept")
    check(os.path.exists("/etc/passwd"), "the link's target")


table("uninstall_never_follows", pin_env, [
    Row("symlink_to_a_pin_dir", uninstall_symlink_to_pins),
    Row("symlink_to_tmp", uninstall_symlink_to_tmp),
    Row("planted_entries_kept", uninstall_keeps_planted),
])


# Hostile names. A cgroup name may hold any byte but '/' and NUL (and the
# kernel refuses '\n'); 255 bytes per component. The full path stays
# under PATH_MAX so that the agent resolves it, and its JSON is 6 bytes a
# control byte: far past the 8 KiB line the agent once had.
CONTROL = bytes(b for b in range(1, 32) if b != 10) + b"\x7f\xff\xc3"
LEVELS = 15
HOSTILE_COMM = b'\r\x1b[2K"\\ok\x07\xff'


def component(i):
    head = b"%c\r\x1b[2Kallowed \"q\" \\ '" % (0x41 + i)
    body = head + CONTROL * 16
    return body[:255]


def text_escape(raw):
    """The agent's text escape (user/escape.h), blanks included."""
    out = []
    for b in raw:
        if b == 0x5c:
            out.append("\\\\")
        elif 0x20 < b < 0x7f:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


class Hostile:
    """A top cgroup the agent attaches to, a deep hostile cgroup under it,
    a netns, and a copy of nfsg-connect under a hostile name."""

    def __init__(self, stack):
        self.netns = stack.enter_context(Netns())
        self.top = stack.enter_context(Cgroup())
        self.fds = []
        stack.callback(self.cleanup)
        fd = os.open(self.top.path, os.O_RDONLY | os.O_DIRECTORY)
        self.fds.append(fd)
        self.rel = self.top.rel.encode()
        for i in range(LEVELS):
            name = component(i)
            os.mkdir(name, dir_fd=fd)
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            self.fds.append(fd)
            self.rel += b"/" + name
        check(len(cgroup2_mount()) + len(self.rel) < 4000, "path fits")
        self.bindir = tempfile.mkdtemp(prefix="nfsg-hostile-")
        os.chmod(self.bindir, 0o755)
        self.comm = os.path.join(self.bindir.encode(), HOSTILE_COMM)
        os.symlink(connect_helper(), self.comm)

    def join_deep(self):
        fd = os.open("cgroup.procs", os.O_WRONLY, dir_fd=self.fds[-1])
        os.write(fd, b"0")
        os.close(fd)

    def attempt(self, exe, preexec):
        r = subprocess.run(["ip", "netns", "exec", self.netns.name] + AS_USER
                           + [exe, V4, str(NFS_PORT)], capture_output=True,
                           timeout=30, preexec_fn=preexec)
        out = json.loads(r.stdout.decode().strip().splitlines()[-1])
        check_eq(out["result"], "EPERM", "uid 1000 to 2049")
        return out["pid"]

    def run_agent(self, json_mode):
        """Agent on the top cgroup; a hostile connect, then a plain one.
        Returns (stdout bytes, hostile pid, plain pid)."""
        argv = [nfsguard(), "run", "--cgroup", self.top.rel, "--control",
                "none"]
        # Text: whole values (-w), so that every escape can be checked.
        argv.append("--json" if json_mode else "--wide")
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(argv, stdout=out, stderr=err)
            try:
                for _ in range(300):
                    err.seek(0)
                    if b"enforcing on cgroup" in err.read() or p.poll() is not None:
                        break
                    time.sleep(0.1)
                check(p.poll() is None, "the agent started")
                hostile = self.attempt(self.comm, self.join_deep)
                plain = self.attempt(connect_helper(), self.top.join)
            finally:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                rc = p.wait(30)
            check_eq(rc, 0, "agent exit status")
            out.seek(0)
            return out.read(), hostile, plain

    def cleanup(self):
        # Processes left in the deep cgroup go; then the cgroups, deepest first.
        for fd in reversed(self.fds[1:]):
            try:
                pf = os.open("cgroup.procs", os.O_RDONLY, dir_fd=fd)
                pids = os.read(pf, 65536).split()
                os.close(pf)
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            except OSError:
                pass
        for i in range(len(self.fds) - 1, 0, -1):
            for _ in range(50):
                try:
                    os.rmdir(component(i - 1), dir_fd=self.fds[i - 1])
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        for fd in self.fds:
            os.close(fd)
        shutil.rmtree(getattr(self, "bindir", "/nonexistent"),
                      ignore_errors=True)

    def finish(self):
        pass


@contextlib.contextmanager
def hostile():
    with contextlib.ExitStack() as stack:
        yield Hostile(stack)


def text_is_escaped(env):
    out, hostile_pid, plain_pid = env.run_agent(json_mode=False)
    bad = sorted({b for b in out if (b < 0x20 and b != 0x0a) or b >= 0x7f})
    check_eq(bad, [], "control or high bytes in the text output")
    lines = out.decode("ascii").splitlines()
    rows = {l.split()[0]: l.split() for l in lines[1:] if len(l.split()) > 1}
    h = rows.get(str(hostile_pid))
    check(h is not None, f"no row for pid {hostile_pid}: {lines}")
    netns = str(os.stat(f"/run/netns/{env.netns.name}").st_ino)
    check_eq(len(h), 10, f"columns of {h}")
    check_eq(h[1], text_escape(HOSTILE_COMM), "comm column")
    check_eq(h[5:10], ["refused", "owner", "default", netns,
                       text_escape(env.rel)],
             "verdict, reason, policy, netns, cgroup")
    p = rows.get(str(plain_pid))
    check(p is not None, f"no row for pid {plain_pid}")
    check_eq(p[1:10], ["nfsg-connect", str(UNPRIV), V4, str(NFS_PORT),
                       "refused", "owner", "default", netns, env.top.rel],
             "the plain row")


def json_lines_are_valid(env):
    out, hostile_pid, plain_pid = env.run_agent(json_mode=True)
    check(out.endswith(b"\n"), "output ends with a newline")
    check(all(b < 0x80 for b in out), "the output is ASCII")
    events = [json.loads(l) for l in out.decode("ascii").splitlines()]
    mine = [e for e in events if e.get("pid") in (hostile_pid, plain_pid)]
    check_eq([e["pid"] for e in mine], [hostile_pid, plain_pid],
             "one line per event, in order")
    h, p = mine
    # Each byte comes back as one code point below 256.
    check_eq(h["cgroup"], env.rel.decode("latin-1"), "hostile cgroup path")
    check_eq(h["comm"], HOSTILE_COMM.decode("latin-1"), "hostile comm")
    check_eq((h["verdict"], h["uid"], h["dport"]), ("refused", UNPRIV,
                                                    NFS_PORT), "hostile event")
    check_eq((p["cgroup"], p["comm"], p["verdict"]),
             (env.top.rel, "nfsg-connect", "refused"), "the plain event")
    check(len(max(out.splitlines(), key=len)) > 8192,
          "the hostile line is longer than the old 8 KiB buffer")


table("hostile_names", hostile, [
    Row("text_is_escaped", text_is_escaped),
    Row("json_lines_are_valid", json_lines_are_valid),
])


@case
def check_never_echoes_raw_bytes():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.conf")
        with open(bad, "wb") as f:
            f.write(b"[default]\nmode = \x1b[2J\rallowed\x07\n"
                    b"[policy \x1b]0;x\x07]\ncgroups = /a\n")
        good = os.path.join(d, "good.conf")
        with open(good, "wb") as f:
            f.write(b"[default]\n[policy p]\ncgroups = /a\x1bb\\c\x01\n")
        for path, status in ((bad, 1), (good, 0)):
            r = subprocess.run([nfsguard(), "check", path],
                               capture_output=True, timeout=30)
            check_eq(r.returncode, status, f"exit status of check {path}")
            raw = r.stdout + r.stderr
            bad_bytes = sorted({b for b in raw
                                if (b < 0x20 and b != 0x0a) or b >= 0x7f})
            check_eq(bad_bytes, [], f"raw bytes in check's output for {path}")
