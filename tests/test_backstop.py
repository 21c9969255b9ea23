# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The backstop: a destination rewritten after the connect hook is judged
on the SYN's way out, and the connect fails at once.

Two ways an unprivileged connect to an ungoverned port ends at a 2049
listener: a root-installed DNAT in nat/OUTPUT (what `docker run -p
8049:2049` or a Kubernetes Service installs), and another cgroup program,
attached after nfsguard's, that rewrites the connect's port (a socket load
balancer). Both run in the test's own network namespace and cgroup.
"""
import contextlib
import json
import os
import subprocess
import tempfile

from fixtures import (Agent, BUILD, Cgroup, Listener, NFS_PORT, Netns, UNPRIV,
                      connect, nfsguard, sh, unique)
from harness import Row, case, check, check_eq, table

V4, V6, MAPPED = "127.0.0.1", "::1", "::ffff:127.0.0.1"
NAT_PORT = 8049       # DNAT'd to NFS_PORT
LB_PORT = 8080        # rewritten to NFS_PORT by the foreign program
BPFFS = "/sys/fs/bpf"
# Immediate against a hang: the SYN retries of a DROP last seconds here
# (tcp_syn_retries=1 in the namespace), minutes by default.
PROMPT_US = 1_000_000

NAT_RULES = (
    "add table inet nfsg_nat; "
    "add chain inet nfsg_nat out { type nat hook output priority -100; }; "
    f"add rule inet nfsg_nat out ip daddr {V4} tcp dport {NAT_PORT} "
    f"dnat ip to {V4}:{NFS_PORT}; "
    f"add rule inet nfsg_nat out ip6 daddr {V6} tcp dport {NAT_PORT} "
    f"dnat ip6 to [{V6}]:{NFS_PORT}")


class Rewriter:
    """The foreign load balancer, attached to cg after nfsguard."""

    def __init__(self, cg):
        self.cg = cg
        self.pin = os.path.join(BPFFS, unique("rewrite"))

    def __enter__(self):
        obj = os.path.join(BUILD, "tests", "rewrite.bpf.o")
        sh("bpftool", "prog", "load", obj, self.pin, "type", "cgroup/connect4")
        try:
            sh("bpftool", "cgroup", "attach", self.cg.path, "connect4",
               "pinned", self.pin, "multi")
        except BaseException:
            os.unlink(self.pin)
            raise
        return self

    def __exit__(self, *exc):
        sh("bpftool", "cgroup", "detach", self.cg.path, "connect4", "pinned",
           self.pin, check=False)
        if os.path.exists(self.pin):
            os.unlink(self.pin)


def namespace(stack):
    netns = stack.enter_context(Netns())
    ns = netns.name
    # A dropped SYN that nobody aborts ends in seconds, not minutes.
    sh("ip", "netns", "exec", ns, "sysctl", "-q", "net.ipv4.tcp_syn_retries=1")
    sh("ip", "netns", "exec", ns, "nft", NAT_RULES)
    stack.enter_context(Listener(netns, [f"{V4}:{NFS_PORT}",
                                         f"[{V6}]:{NFS_PORT}"]))
    return netns


def egress_task():
    """Do this kernel's cgroup_skb programs see the connecting task? If
    not (before 6.5), backstop events carry pid 0."""
    r = subprocess.run([nfsguard(), "probe", "--json"], capture_output=True,
                       text=True, timeout=60)
    feats = {f["name"]: f for f in json.loads(r.stdout)["features"]}
    return feats["egress_pid"]["in_use"]


class Env:
    def __init__(self, stack):
        self.task = egress_task()
        self.aborted = 0      # refused rows so far, in order
        self.netns = namespace(stack)
        self.cgroup = stack.enter_context(Cgroup())
        self.cgroup_id = os.stat(self.cgroup.path).st_ino
        self.agent = stack.enter_context(
            Agent(["--cgroup", self.cgroup.rel, "--json"]))
        stack.enter_context(Rewriter(self.cgroup))

    def finish(self):
        self.agent.stop()
        self.events = self.agent.events()


@contextlib.contextmanager
def setup():
    with contextlib.ExitStack() as stack:
        yield Env(stack)


def attempt(addr, port, uid=UNPRIV, mode="nonblock", expect="ECONNABORTED",
            final=None, socket_port=None, extra=()):
    """One connect; a refused one has exactly one egress event."""
    def act(env):
        r = connect(env.netns, env.cgroup, addr, port, uid=uid,
                    extra=["--mode", mode, *extra])
        check_eq(r["result"], expect, "connect result")
        if expect == "EPERM":
            # Refused by the connect hook: no SYN, no egress event.
            return lambda env: check_eq(
                [e["type"] for e in env.events if e["pid"] == r["pid"]],
                ["connect"], "events of a connect refused at its hook")
        if expect != "ECONNABORTED":
            return lambda env: check_eq(
                [e for e in env.events if e["pid"] == r["pid"]], [],
                "events of an allowed connect")
        check(r["elapsed_us"] < PROMPT_US,
              f"the abort took {r['elapsed_us']} us: it must not hang")
        seq = env.aborted
        env.aborted += 1

        def later(env):
            if env.task:
                mine = [e for e in env.events if e["pid"] == r["pid"]]
            else:
                # No task in cgroup_skb: the rows' records, in order.
                ours = [e for e in env.events
                        if e["type"] == "egress" and e["pid"] == 0]
                check_eq(len(ours), env.aborted, "egress records, pid 0")
                mine = [ours[seq]]
            check_eq(len(mine), 1, "events of one refused connect")
            e = mine[0]
            want = {"type": "egress", "verdict": "refused", "reason": "owner",
                    "uid": UNPRIV, "gid": UNPRIV, "policy": "default",
                    "cgroup_id": env.cgroup_id, "dport": NFS_PORT,
                    "daddr": final, "protocol": "tcp",
                    "socket_dport": socket_port}
            for k, v in want.items():
                check_eq(e.get(k), v, f"event field {k}")
        return later
    return act


table("rewritten_destinations", setup, [
    Row("unpriv_v4_dnat_aborted",
        attempt(V4, NAT_PORT, final=V4, socket_port=NAT_PORT)),
    Row("unpriv_v4_dnat_block_aborted",
        attempt(V4, NAT_PORT, mode="block", final=V4, socket_port=NAT_PORT)),
    Row("unpriv_v6_dnat_aborted",
        attempt(V6, NAT_PORT, final=V6, socket_port=NAT_PORT)),
    Row("unpriv_mapped_dnat_aborted",
        attempt(MAPPED, NAT_PORT, final=V4, socket_port=NAT_PORT)),
    Row("root_v4_dnat_allowed", attempt(V4, NAT_PORT, uid=None, expect="ok")),
    # IP options move the TCP header: the backstop reads such a SYN the
    # long way (bpf/packet.h), and still finds the port DNAT gave it.
    Row("unpriv_v4_ip_options_dnat_aborted",
        attempt(V4, NAT_PORT, final=V4, socket_port=NAT_PORT,
                extra=["--ipopts", "yes"])),
    Row("root_v4_ip_options_dnat_allowed",
        attempt(V4, NAT_PORT, uid=None, expect="ok",
                extra=["--ipopts", "yes"])),
    Row("root_v6_dnat_allowed", attempt(V6, NAT_PORT, uid=None, expect="ok")),
    # The other program runs after nfsguard's hook: the socket itself now
    # points at 2049, which only the SYN's judge sees.
    Row("unpriv_rewritten_by_another_program_aborted",
        attempt(V4, LB_PORT, final=V4, socket_port=NFS_PORT)),
    Row("root_rewritten_by_another_program_allowed",
        attempt(V4, LB_PORT, uid=None, expect="ok")),
    Row("unpriv_direct_still_refused_at_connect",
        attempt(V4, NFS_PORT, expect="EPERM")),
])


@case
def backstop_off_lets_a_rewritten_connect_through():
    """backstop = off: the cost goes, and so does the protection."""
    with contextlib.ExitStack() as stack:
        netns = namespace(stack)
        cg = stack.enter_context(Cgroup())
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        conf = os.path.join(tmp, "nfsguard.conf")
        with open(conf, "w") as f:
            f.write("[default]\nbackstop = off\n")
        agent = stack.enter_context(
            Agent(["--cgroup", cg.rel, "--config", conf, "--json"]))
        r = connect(netns, cg, V4, NAT_PORT, uid=UNPRIV,
                    extra=["--mode", "nonblock"])
        check_eq(r["result"], "ok", "uid 1000 through the DNAT")
        r = connect(netns, cg, V4, NFS_PORT, uid=UNPRIV)
        check_eq(r["result"], "EPERM", "uid 1000 directly")
        agent.stop()
        check_eq([e["type"] for e in agent.events()
                  if e["type"] in ("connect", "egress")], ["connect"],
                 "only the direct connect's event, none of the SYN")


@case
def backstop_counts_by_the_socket_family():
    """A refused SYN counts in its socket's family, the one whose connect
    hook saw the connect: a v4-mapped IPv6 socket's is IPv6."""
    with setup() as env:
        for addr in (V4, V6, MAPPED):
            r = connect(env.netns, env.cgroup, addr, NAT_PORT, uid=UNPRIV,
                        extra=["--mode", "nonblock"])
            check_eq(r["result"], "ECONNABORTED", f"{addr} through the DNAT")
        pol = {p["name"]: p for p in env.agent.status()["policies"]}
        check_eq(pol["default"]["families"],
                 {"inet": {"allowed": 0, "refused": 1, "audited": 0},
                  "inet6": {"allowed": 0, "refused": 2, "audited": 0}},
                 "the backstop's refusals by family")
