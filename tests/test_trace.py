# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Tracing of connect attempts to governed ports, against the real kernel.

Every outcome is produced for real inside the test's network namespace:
an established connection against a listener, a reset against a closed
port, a timeout against an address whose SYNs an nft rule drops (with
tcp_syn_retries lowered in the namespace), and a refusal by policy.
"""
import contextlib
import errno
import json
import os
import shutil
import subprocess
import tempfile
import time

from fixtures import (Agent, Cgroup, Listener, Netns, PYTHON, UNPRIV, client,
                      connect, connect_helper, kernel_feature,
                      require_feature, sh)


def netns_inode(ns):
    """The inode of a namespace ip-netns made, as the kernel numbers it."""
    return os.stat(f"/run/netns/{ns.name}").st_ino
from harness import Row, Skip, case, check, check_eq, table

HERE = os.path.dirname(os.path.abspath(__file__))
V4, V6, DROPPED = "127.0.0.1", "::1", "127.0.0.3"
REPLY = 100		# bytes each listener answers
CONF = "[default]\nports = 2049, 2050, 3049\n"


class Env:
    def __init__(self, stack):
        self.stack = stack
        self.netns = stack.enter_context(Netns())
        ns = self.netns.name
        sh("ip", "netns", "exec", ns, "sysctl", "-q",
           "net.ipv4.tcp_syn_retries=1")
        sh("ip", "netns", "exec", ns, "nft",
           "add table inet nfsg; "
           "add chain inet nfsg out { type filter hook output priority 0; }; "
           f"add rule inet nfsg out ip daddr {DROPPED} tcp dport 2049 drop")
        self.top = stack.enter_context(Cgroup())
        self.cg = {n: stack.enter_context(Cgroup(self.top, n)) for n in "ab"}
        stack.enter_context(Listener(self.netns, [
            f"{V4}:2049+{REPLY}", f"[{V6}]:2049+{REPLY}", f"{V4}:3049"]))
        self.dir = stack.enter_context(tempfile.TemporaryDirectory())
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "nfsguard.conf")
        with open(self.conf, "w") as f:
            f.write(CONF)
        # The same helper under another name, for the --comm filter.
        self.other = os.path.join(self.dir, "othercomm")
        shutil.copy(connect_helper(), self.other)
        self.agent = None

    def start(self, *args, wrap=()):
        require_feature("tracing")
        self.agent = Agent(["--cgroup", self.top.rel, "--config", self.conf,
                            "--json", "--rate", "0"] + list(args), wrap=wrap)
        self.agent.argv[len(wrap) + 1] = "trace"
        return self.stack.enter_context(self.agent)

    def tcp(self, addr, port=2049, send=10, cg="a", uid=None):
        r = client(self.netns, self.cg[cg],
                   [PYTHON, os.path.join(HERE, "tcp_client.py"), addr,
                    str(port), str(send)], uid=uid)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def connect(self, addr, port=2049, cg="a", uid=None, helper=None,
                extra=()):
        return connect(self.netns, self.cg[cg], addr, port, uid=uid,
                       helper=helper, extra=extra)

    def finish(self):
        self.agent.stop()
        self.events = self.agent.events()

    def of(self, pid):
        return [e for e in self.events if e.get("pid") == pid]


@contextlib.contextmanager
def env():
    with contextlib.ExitStack() as stack:
        yield Env(stack)


@contextlib.contextmanager
def tracing():
    with env() as e:
        e.start()
        yield e


def established(e):
    r = e.tcp(V4, send=10)
    check_eq(r.get("received"), REPLY, f"client: {r}")

    def later(e):
        ev = e.of(r["pid"])
        kinds = [(x["type"], x.get("outcome")) for x in ev]
        check_eq(kinds, [("connect", "established"), ("close", None)],
                 "records of one established connection")
        est, close = ev
        check(0 < est["latency_us"] < 1_000_000,
              f"latency {est['latency_us']} us is not plausible")
        check_eq((close["bytes_sent"], close["bytes_received"]), (10, REPLY),
                 "bytes counted at close")
        check(0 < close["lifetime_us"] < 10_000_000,
              f"lifetime {close['lifetime_us']} us is not plausible")
        check_eq(est["cookie"], close["cookie"], "one socket, one cookie")
        check_eq((est["verdict"], est["uid"], est["dport"], est["cgroup"],
                  est["netns"]),
                 ("allowed", 0, 2049, e.cg["a"].rel, netns_inode(e.netns)),
                 "fields")
        check_eq(close["netns"], est["netns"], "the close's namespace")
    return later


def established_v6(e):
    r = e.tcp(V6, send=1000)
    check_eq(r.get("received"), REPLY, f"client: {r}")

    def later(e):
        ev = e.of(r["pid"])
        check_eq([x.get("outcome") for x in ev], ["established", None],
                 "records")
        check_eq((ev[1]["bytes_sent"], ev[1]["family"]), (1000, "inet6"),
                 "close record")
    return later


def reset(e):
    r = e.connect(V4, port=2050)
    check_eq(r["result"], "ECONNREFUSED", "connect to a closed port")

    def later(e):
        ev = e.of(r["pid"])
        check_eq([(x.get("outcome"), x.get("error")) for x in ev],
                 [("reset", "ECONNREFUSED")], "a reset from the server")
    return later


def timeout(e):
    r = e.connect(DROPPED)
    check_eq(r["result"], "ETIMEDOUT", "connect whose SYNs are dropped")

    def later(e):
        ev = e.of(r["pid"])
        check_eq([(x.get("outcome"), x.get("error")) for x in ev],
                 [("timeout", "ETIMEDOUT")], "a timeout")
        check(ev[0]["elapsed_us"] >= 1_000_000, "SYN retries take seconds")
    return later


def failed_locally(e):
    r = e.connect("192.0.2.55")	# nowhere to route it in the namespace
    check_eq(r["result"], "ENETUNREACH", "connect with no route")

    def later(e):
        ev = e.of(r["pid"])
        check_eq([x.get("outcome") for x in ev], ["failed"],
                 "a local failure")
    return later


def failed_in_the_call(extra, learnt):
    """A connect that fails in the call itself: with the client's errno
    where an fexit program attaches to the connect call (learnt), else
    failed all the same, with the errno unknown (null), never 0."""
    def fn(e):
        if learnt:
            require_feature("connect_errors")
        elif kernel_feature("connect_errors"):
            raise Skip("this kernel attaches fexit programs to "
                       "__inet_stream_connect: the errno is learnt")
        # Only lo is up in the namespace: the call fails with no route.
        r = e.connect("10.1.2.3", extra=extra)
        check_eq(r["result"], "ENETUNREACH", "connect with no route")
        want = (("failed", r["result"], True, getattr(errno, r["result"]))
                if learnt else ("failed", "unknown", True, None))

        def later(e):
            ev = e.of(r["pid"])
            check_eq([(x.get("outcome"), x.get("error"), "errno" in x,
                       x.get("errno")) for x in ev],
                     [want], "the errno the client saw, or unknown")
        return later
    return fn


# sendto(MSG_FASTOPEN) connects too, in __inet_stream_connect.
FASTOPEN = ["--mode", "fastopen"]


def refused(e):
    r = e.connect(V4, uid=UNPRIV)
    check_eq(r["result"], "EPERM", "uid 1000")

    def later(e):
        ev = e.of(r["pid"])
        check_eq([(x["verdict"], x.get("outcome"), x["netns"]) for x in ev],
                 [("refused", None, netns_inode(e.netns))], "a refusal")
    return later


def ungoverned(e):
    r = e.connect(V4, port=2051)
    check_eq(r["result"], "ECONNREFUSED",
             "the connect to a closed ungoverned port really ran")

    def later(e):
        check_eq(e.of(r["pid"]), [], "records for an ungoverned port")
    return later


table("outcomes", tracing, [
    Row("established_with_latency_and_bytes", established),
    Row("established_v6", established_v6),
    Row("reset_by_the_server", reset),
    Row("timed_out", timeout),
    Row("failed_locally", failed_locally),
    Row("failed_with_the_clients_errno", failed_in_the_call((), True)),
    Row("failed_with_the_clients_errno_fastopen",
        failed_in_the_call(FASTOPEN, True)),
    Row("failed_with_errno_unknown_without_fexit",
        failed_in_the_call((), False)),
    Row("failed_with_errno_unknown_without_fexit_fastopen",
        failed_in_the_call(FASTOPEN, False)),
    Row("refused_by_policy", refused),
    Row("ungoverned_port_not_traced", ungoverned),
])


def attempts(e):
    """One of each kind; {name: pid}."""
    return {
        "root_a_v4": e.tcp(V4, cg="a")["pid"],
        "unpriv_a_v4": e.connect(V4, uid=UNPRIV)["pid"],
        "root_b_v6": e.tcp(V6, cg="b")["pid"],
        "root_b_3049": e.connect(V4, port=3049, cg="b")["pid"],
        "other_a_v4": e.connect(V4, helper=e.other)["pid"],
    }


FILTERS = [
    (["--uid", str(UNPRIV)], {"unpriv_a_v4"}),
    (["--comm", "othercomm"], {"other_a_v4"}),
    (["--subtree", "{b}"], {"root_b_v6", "root_b_3049"}),
    (["--port", "3049"], {"root_b_3049"}),
    (["--daddr", "::1/128"], {"root_b_v6"}),
    (["--daddr", "127.0.0.0/8"],
     {"root_a_v4", "unpriv_a_v4", "root_b_3049", "other_a_v4"}),
]


def filter_case(args, want):
    def fn():
        with env() as e:
            e.start(*[a.format(b=e.cg["b"].rel) for a in args])
            pids = attempts(e)
            e.finish()
            seen = {n for n, p in pids.items() if e.of(p)}
            check_eq(seen, want, f"attempts traced with {args}")
    fn.__name__ = "filter_" + "_".join(
        a.strip("-").replace("/", "_").replace(".", "_").replace(":", "_")
        for a in args if "{" not in a)
    return fn


for args, want in FILTERS:
    case(filter_case(args, want))


@case
def filter_pid():
    with env() as e:
        # The client waits for a line once it has told its pid.
        p = subprocess.Popen(
            ["ip", "netns", "exec", e.netns.name, PYTHON,
             os.path.join(HERE, "tcp_client.py"), V4, "2049", "1", "wait"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=e.cg["a"].join)
        try:
            pid = int(p.stdout.readline())
            e.start("--pid", str(pid))
            other = e.tcp(V4)["pid"]
            p.stdin.write("go\n")
            p.stdin.flush()
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        e.finish()
        check_eq([x.get("outcome") for x in e.of(pid)], ["established", None],
                 "the filtered process")
        check_eq(e.of(other), [], "another process")


@case
def interval_summary_per_destination():
    with env() as e:
        e.start("--interval", "1")
        for _ in range(3):
            e.tcp(V4)
        e.connect(V4, uid=UNPRIV)
        e.connect(V4, port=2050)
        # At least one flush after the last attempt; an emulated guest's
        # agent may take seconds to read its events.
        time.sleep(15 if os.environ.get("NFSG_GUEST") else 2.5)
        e.finish()
        rows = [l for l in (json.loads(x) for x in e.agent.out if x.startswith("{"))
                if l["type"] == "summary"]
        v4 = [r for r in rows if r["daddr"] == V4 and r["dport"] == 2049]
        check(v4, f"a summary row for {V4}:2049 in {rows}")
        # On a loaded machine the attempts may span two intervals: each
        # interval's row counts its own, and together they count all.
        total = tuple(sum(r[k] for r in v4) for k in
                      ("attempts", "refused", "established", "failed"))
        check_eq(total, (4, 1, 3, 0), f"counts over {len(v4)} intervals")
        for r in v4:
            check(bool(r["established"]) == (0 < r["p50_us"] <= r["p99_us"]
                                             < 1_000_000), f"latencies {r}")
        reset = [r for r in rows if r["dport"] == 2050]
        check_eq((sum(r["attempts"] for r in reset),
                  sum(r["failed"] for r in reset)), (1, 1),
                 "the reset destination")
        check(all(r.get("time") for r in rows), f"a time on every row: {rows}")


@case
def summary_rows_per_network_namespace():
    """One destination, 127.0.0.1:2049, in two namespaces: two rows."""
    with env() as e:
        other = e.stack.enter_context(Netns())
        e.start("--interval", "1")
        e.tcp(V4)				# a listener in e.netns
        r = connect(other, e.cg["a"], V4, 2049)	# none in the other
        check_eq(r["result"], "ECONNREFUSED", "the other namespace's connect")
        time.sleep(15 if os.environ.get("NFSG_GUEST") else 2.5)
        e.finish()
        rows = [l for l in (json.loads(x) for x in e.agent.out
                            if x.startswith("{"))
                if l["type"] == "summary" and l["daddr"] == V4
                and l["dport"] == 2049]
        got = {}
        for row in rows:
            n = got.setdefault(row["netns"], [0, 0, 0])
            n[0] += row["attempts"]
            n[1] += row["established"]
            n[2] += row["failed"]
        check_eq(got, {netns_inode(e.netns): [1, 1, 0],
                       netns_inode(other): [1, 0, 1]},
                 f"rows per namespace in {rows}")


@case
def flood_is_rate_limited_and_counted_exactly():
    with env() as e:
        agent = Agent(["--cgroup", e.top.rel, "--config", e.conf, "--json",
                       "--rate", "50", "--burst", "20"])
        agent.argv[1] = "trace"
        e.stack.enter_context(agent)
        stat = f"/proc/{agent.proc.pid}/stat"

        def cpu():
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        c0, t0 = cpu(), time.monotonic()
        r = e.connect(V4, uid=UNPRIV, extra=["--count", "100000"])
        took = time.monotonic() - t0
        used = cpu() - c0
        check_eq((r["EPERM"], r["count"]), (100000, 100000),
                 "every flood connect refused")
        # The last held-back attempts are told with the key's next event:
        # one more, once the bucket has a token again.
        time.sleep(0.1)
        check_eq(e.connect(V4, uid=UNPRIV)["result"], "EPERM", "one more")
        st = agent.status()
        check_eq(st["counters"]["refused"], 100001, "the refused counter")
        agent.stop()
        summary = [l for l in agent.err if "detached;" in l][0]
        check("refused 100001," in summary,
              f"the refused counter is exact: {summary}")
        ev = [x for x in agent.events() if x["type"] == "connect"]
        limit = 20 + 50 * (took + 1)
        check(len(ev) <= limit,
              f"{len(ev)} events in {took:.1f}s: the limit allows {limit:.0f}")
        sup = [x for x in agent.out if '"type":"suppressed"' in x]
        counted = sum(json.loads(x)["count"] for x in sup)
        check_eq(len(ev) + counted, 100001,
                 f"events ({len(ev)}) and suppressed ({counted}) account for "
                 "every attempt")
        check(used < max(0.5, took / 2),
              f"the agent used {used:.2f}s of CPU in a {took:.2f}s flood")
