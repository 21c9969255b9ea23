# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The kernel's own NFS client under enforcement, as EFS users deploy it.

Runs only inside a kernel-matrix guest ('make test-kernels'): it enforces on
the cgroup2 root, which would govern the whole machine, and it needs a
kernel with the NFSv4 client (the development kernel has none). There,
with nfsguard enforcing the default rule on the root:

  * 'mount -t nfs4' of the ganesha export works (the kernel's socket is
    not refused);
  * a uid-1000 user writes and reads its own file through the mount;
  * nfs-cat run by uid 1000, asserting uid 0, is refused and reported;
  * the idle mount does not make sunrpc retry: the refused counter stays
    flat.
"""
import contextlib
import os
import subprocess
import tempfile
import time

from fixtures import Agent, UNPRIV, sh
from ganesha import GaneshaServer
from harness import case, check, check_eq, Skip

GUEST_SCRIPT = "tools/kernels/guest.sh"
IDLE_S = 5
MOUNT_OPTS = "vers=4.1,proto=tcp,port=2049,sec=sys,soft,timeo=100,retrans=2"


def in_matrix_guest():
    """NFSG_GUEST=1, set by the guest script, which must also be PID 1:
    a disposable machine whose whole cgroup tree may be enforced on."""
    if os.environ.get("NFSG_GUEST") != "1":
        return False
    try:
        with open("/proc/1/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return any(a.decode(errors="replace").endswith(GUEST_SCRIPT) for a in argv)


def has_nfs4_client():
    subprocess.run(["modprobe", "-q", "nfsv4"], capture_output=True)
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == "nfs4" for line in f if line.strip())


class RootNetns:
    """A name for the initial network namespace, so that GaneshaServer
    (which runs 'ip netns exec NAME') serves where the kernel client is."""

    def __init__(self):
        self.name = f"nfsg-root-{os.getpid()}"

    def __enter__(self):
        sh("ip", "netns", "attach", self.name, "1")
        return self

    def __exit__(self, *exc):
        # Removes the name only: nothing runs "in" it to kill.
        sh("ip", "netns", "del", self.name, check=False)


class Mount:
    """mount -t nfs4 SOURCE on a fresh directory; lazily unmounted."""

    def __init__(self, source, opts):
        self.argv = ["mount", "-t", "nfs4", "-o", opts, source]
        self.dir = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="nfsg-mnt-")
        self.result = subprocess.run(self.argv + [self.dir],
                                     capture_output=True, text=True,
                                     timeout=60)
        return self

    def __exit__(self, *exc):
        if self.result.returncode == 0:
            subprocess.run(["umount", "-f", "-l", self.dir],
                           capture_output=True, timeout=60)
        os.rmdir(self.dir)


def as_user(argv, uid=UNPRIV, timeout=30):
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}",
                           "--clear-groups"] + list(argv),
                          capture_output=True, text=True, timeout=timeout)


def agent_counters(agent):
    """The agent's own totals, over its control socket."""
    st = agent.status()
    check_eq((st["agent_running"], st["pid"]), (True, agent.proc.pid),
             "the agent answers")
    return st["counters"]


@case
def kernel_nfs_mount_works_under_enforcement_on_the_root():
    if not in_matrix_guest():
        raise Skip("only in a kernel-matrix guest (make test-kernels): it "
                   "enforces on the cgroup2 root")
    if not has_nfs4_client():
        raise Skip("this kernel has no NFSv4 client (nfs4 not in "
                   "/proc/filesystems after modprobe nfsv4)")
    with contextlib.ExitStack() as stack:
        netns = stack.enter_context(RootNetns())
        work = stack.enter_context(tempfile.TemporaryDirectory())
        server = stack.enter_context(
            GaneshaServer(netns.name, os.path.join(work, "ganesha")))
        # The user's own directory on the server, as an admin would make it.
        home = os.path.join(server.export_dir, "u1000")
        os.mkdir(home, 0o755)
        os.chown(home, UNPRIV, UNPRIV)

        agent = stack.enter_context(Agent(["--json"]))
        with Mount(f"{server.addr}:{server.pseudo}", MOUNT_OPTS) as m:
            check_eq(m.result.returncode, 0, "mount -t nfs4 under "
                     f"enforcement ({m.result.stderr.strip()})")
            through_the_mount(server, agent, m.dir)
        check_eq(agent.stop(), 0, "agent exit status")

        ev = [e for e in agent.events() if e.get("verdict") == "refused"]
        check(ev, "refusal events")
        check_eq({(e["comm"], e["uid"], e["daddr"], e["dport"]) for e in ev},
                 {("nfs-cat", UNPRIV, server.addr, 2049)},
                 "refusals: nfs-cat's only")


def through_the_mount(server, agent, mnt):
    # The user's I/O rides the kernel's connection: not refused.
    path = os.path.join(mnt, "u1000", "f")
    data = f"written by uid {UNPRIV} through the kernel client"
    w = as_user(["sh", "-c", 'printf %s "$1" > "$2"', "sh", data, path])
    check_eq(w.returncode, 0, f"uid 1000 writes its file ({w.stderr})")
    r = as_user(["cat", path])
    check_eq((r.returncode, r.stdout), (0, data),
             "uid 1000 reads its file back")
    st = os.stat(os.path.join(server.export_dir, "u1000", "f"))
    check_eq(st.st_uid, UNPRIV, "owner of the file on the server")

    # The userspace client asserting uid 0 is refused at once.
    before = agent_counters(agent)["refused"]
    cat = as_user(server.nfs_cat_cmd(uid=0, gid=0))
    check(cat.returncode != 0, "nfs-cat as uid 1000 must fail")
    check(server.secret not in cat.stdout + cat.stderr,
          "nothing of the file may be printed")
    counted = agent_counters(agent)
    check(counted["refused"] > before,
          f"refused counter {before} -> {counted['refused']}")

    # sunrpc does not connect again and again: while the mount idles,
    # nothing more is refused, or even allowed.
    time.sleep(IDLE_S)
    idle = agent_counters(agent)
    check_eq((idle["refused"], idle["allowed"]),
             (counted["refused"], counted["allowed"]),
             f"(refused, allowed) after {IDLE_S}s of an idle mount")


@case
def kernel_nfs_mount_through_a_tls_relay_under_enforcement():
    """The deployment of `mount -t efs -o tls`: the kernel client mounts
    through a root relay on 127.0.0.1:20049 (stunnel here), with nfsguard
    enforcing on the cgroup2 root; users read through the mount, and are
    refused at the relay's port."""
    if not in_matrix_guest():
        raise Skip("only in a kernel-matrix guest (make test-kernels): it "
                   "enforces on the cgroup2 root")
    if not has_nfs4_client():
        raise Skip("this kernel has no NFSv4 client")
    from test_tls_relay import RELAY_PORT, relay_chain
    with contextlib.ExitStack() as stack:
        netns = stack.enter_context(RootNetns())
        work = stack.enter_context(tempfile.TemporaryDirectory())
        os.chmod(work, 0o755)
        server = stack.enter_context(
            GaneshaServer(netns.name, os.path.join(work, "ganesha")))
        home = os.path.join(server.export_dir, "u1000")
        os.mkdir(home, 0o755)
        os.chown(home, UNPRIV, UNPRIV)
        with open(os.path.join(home, "f"), "w") as f:
            f.write("through the relay")
        os.chown(os.path.join(home, "f"), UNPRIV, UNPRIV)
        relay_chain(stack, netns.name, work, server)
        agent = stack.enter_context(Agent(["--json"]))
        opts = MOUNT_OPTS.replace("port=2049", f"port={RELAY_PORT}")
        with Mount(f"127.0.0.1:{server.pseudo}", opts) as m:
            check_eq(m.result.returncode, 0, "mount through the relay under "
                     f"enforcement ({m.result.stderr.strip()})")
            r = as_user(["cat", os.path.join(m.dir, "u1000", "f")])
            check_eq((r.returncode, r.stdout), (0, "through the relay"),
                     "uid 1000 reads its file through the mount")
            c = as_user(["/usr/bin/python3", "-c",
                         "import socket,sys\n"
                         "s=socket.socket()\n"
                         "try:\n s.connect(('127.0.0.1', %d))\n"
                         "except PermissionError:\n sys.exit(13)\n" % RELAY_PORT])
            check_eq(c.returncode, 13, "uid 1000 at the relay's port: EPERM")
        check_eq(agent.stop(), 0, "agent exit status")
        ev = [e for e in agent.events() if e.get("verdict") == "refused"]
        check_eq([(e["uid"], e["dport"], e.get("port_kind")) for e in ev],
                 [(UNPRIV, RELAY_PORT, "efs-tls-relay")],
                 "the one refusal: uid 1000's, at the relay")
