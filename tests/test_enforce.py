# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The default policy, case by case, against the real kernel.

One agent is attached to a cgroup the test creates. Every client runs in
that cgroup, inside a network namespace the test creates, as a real uid.
Each row names its expected outcome; refused rows also expect exactly one
event with the right fields, allowed rows none.
"""
import contextlib
import ipaddress
import os
import shutil
import tempfile

from fixtures import (Agent, Cgroup, CONTROL_PORT, Listener, NFS_PORT, Netns,
                      UNPRIV, connect, connect_helper)
from harness import Row, Skip, check, check_eq, table

V4, V6, MAPPED = "127.0.0.1", "::1", "::ffff:127.0.0.1"
# A refusal is immediate; a hang (the DROP rule's) lasts minutes. This bound
# only tells the two apart: speed is measured by 'make bench', not here.
PROMPT_US = 1_000_000


class Env:
    def __init__(self, stack):
        self.netns = stack.enter_context(Netns())
        self.cgroup = stack.enter_context(Cgroup())
        specs = [f"{V4}:{NFS_PORT}", f"[{V6}]:{NFS_PORT}",
                 f"{V4}:{CONTROL_PORT}", f"[{V6}]:{CONTROL_PORT}"]
        stack.enter_context(Listener(self.netns, specs))
        # A setuid-root copy of the helper, for the setuid row.
        self.tmp = stack.enter_context(tempfile.TemporaryDirectory())
        os.chmod(self.tmp, 0o755)
        self.setuid_helper = os.path.join(self.tmp, "nfsg-connect-suid")
        shutil.copy(connect_helper(), self.setuid_helper)
        os.chown(self.setuid_helper, 0, 0)
        os.chmod(self.setuid_helper, 0o4755)
        self.cgroup_id = os.stat(self.cgroup.path).st_ino
        self.agent = stack.enter_context(
            Agent(["--cgroup", self.cgroup.rel, "--json"]))
        self.refused = 0
        self.status = None

    def finish(self):
        self.status = self.agent.stop()
        self.events = self.agent.events()


@contextlib.contextmanager
def setup():
    with contextlib.ExitStack() as stack:
        yield Env(stack)


def family_of(addr):
    return "inet" if ipaddress.ip_address(addr).version == 4 else "inet6"


def attempt(addr, port, uid=None, mode="block", expect="EPERM", extra=(),
            event_uid=None, event_gid=None, setuid=False, proto="tcp",
            in_cgroup=True, event_proto=None):
    """A row's action: one attempt, its outcome, and its events checked."""

    def act(env):
        args = ["--mode", mode, "--proto", proto] + list(extra)
        cgroup = env.cgroup if in_cgroup else None
        r = connect(env.netns, cgroup, addr, port, uid=uid, extra=args,
                    helper=env.setuid_helper if setuid else None)
        if r["result"].startswith("socket:"):
            raise Skip(f"kernel cannot create a {proto} socket: {r['result']}")
        check_eq(r["result"], expect, "connect result")
        if expect == "EPERM":
            env.refused += 1
            check(r["elapsed_us"] < PROMPT_US,
                  f"refusal took {r['elapsed_us']} us: it must not hang")

        def later(env):
            mine = [e for e in env.events if e["pid"] == r["pid"]]
            if expect != "EPERM":
                check_eq(mine, [], "events for an allowed connect")
                return
            check_eq(len(mine), 1, "events for one refused connect")
            e = mine[0]
            want = {
                "verdict": "refused", "reason": "owner", "type": "connect",
                "policy": "default",
                "tid": r["pid"], "uid": event_uid,
                "gid": event_gid, "comm": "nfsg-connect",
                "cgroup": env.cgroup.rel, "cgroup_id": env.cgroup_id,
                "family": family_of(addr),
                "dport": port, "protocol": event_proto or proto,
            }
            for k, v in want.items():
                check_eq(e.get(k), v, f"event field {k}")
            check_eq(ipaddress.ip_address(e["daddr"]),
                     ipaddress.ip_address(addr), "event field daddr")
            check(e["time"].endswith("Z") and "T" in e["time"],
                  f"time {e['time']!r} is not RFC 3339 UTC")
        return later

    return act


def refused(addr, mode="block", **kw):
    kw.setdefault("event_uid", UNPRIV)
    kw.setdefault("event_gid", UNPRIV)
    return attempt(addr, NFS_PORT, uid=UNPRIV, mode=mode, **kw)


ROWS = [
    Row("unpriv_v4_block_refused", refused(V4)),
    Row("unpriv_v6_block_refused", refused(V6)),
    Row("unpriv_mapped_block_refused", refused(MAPPED)),
    Row("unpriv_v4_nonblock_refused", refused(V4, "nonblock")),
    Row("unpriv_v6_nonblock_refused", refused(V6, "nonblock")),
    Row("unpriv_mapped_nonblock_refused", refused(MAPPED, "nonblock")),
    Row("unpriv_v4_fastopen_refused", refused(V4, "fastopen")),
    Row("unpriv_v6_fastopen_refused", refused(V6, "fastopen")),
    Row("unpriv_mapped_fastopen_refused", refused(MAPPED, "fastopen")),
    Row("unpriv_v4_mptcp_refused", refused(V4, proto="mptcp")),
    Row("unpriv_v6_mptcp_refused", refused(V6, proto="mptcp")),
    Row("root_v4_allowed", attempt(V4, NFS_PORT, expect="ok")),
    Row("root_v6_allowed", attempt(V6, NFS_PORT, expect="ok")),
    Row("root_mapped_allowed", attempt(MAPPED, NFS_PORT, expect="ok")),
    Row("root_nonblock_allowed",
        attempt(V6, NFS_PORT, mode="nonblock", expect="ok")),
    # SMC connects through a kernel TCP socket made for the user: judged,
    # and reported, as that TCP socket, with the user's uid and gid.
    Row("unpriv_smc_refused", refused(V4, proto="smc", event_proto="tcp")),
    Row("root_mptcp_allowed",
        attempt(V6, NFS_PORT, proto="mptcp", expect="ok")),
    Row("root_fastopen_allowed",
        attempt(V4, NFS_PORT, mode="fastopen", expect="ok")),
    Row("unpriv_control_port_v4_allowed",
        attempt(V4, CONTROL_PORT, uid=UNPRIV, expect="ok")),
    Row("unpriv_control_port_v6_allowed",
        attempt(V6, CONTROL_PORT, uid=UNPRIV, expect="ok")),
    Row("unpriv_udp_not_governed",
        attempt(V4, NFS_PORT, uid=UNPRIV, mode="sendto", proto="udp",
                expect="ok")),
    # The agent governs its cgroup only.
    Row("unpriv_outside_the_cgroup_not_governed",
        attempt(V4, NFS_PORT, uid=UNPRIV, expect="ok", in_cgroup=False)),
    # The socket owner decides, not the caller's real uid.
    Row("setuid_root_binary_allowed",
        attempt(V4, NFS_PORT, uid=UNPRIV, setuid=True, expect="ok")),
    Row("root_socket_handed_to_unpriv_child_allowed",
        attempt(V4, NFS_PORT, extra=["--handoff", str(UNPRIV)], expect="ok")),
    Row("root_seteuid_before_socket_refused",
        attempt(V4, NFS_PORT, extra=["--seteuid", str(UNPRIV)],
                event_uid=UNPRIV, event_gid=0)),
]


def _agent_status(env):
    check_eq(env.status, 0, "agent exit status after SIGTERM")
    summary = [l for l in env.agent.err if "detached;" in l]
    check_eq(len(summary), 1, "agent's detach summary lines")
    check(f"refused {env.refused}," in summary[0],
          f"refused counter must equal the {env.refused} refusals seen: "
          f"{summary[0]!r}")
    check("events dropped 0" in summary[0], summary[0])


ROWS.append(Row("agent_counts_every_refusal", lambda env: _agent_status))

table("default_policy", setup, ROWS)
