# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""EFS mounts with encryption in transit: the local TLS relay.

`mount -t efs -o tls` starts a relay as root on 127.0.0.1:<20049-21049>
that forwards over TLS to the file system's 2049. Any user who reaches
the relay reaches the file system as whoever they claim to be. Debian's
stunnel4 stands in for it here, in the test's own network namespace: a
client-side stunnel (root) on 127.0.0.1:20049, TLS to a server-side stunnel
in front of nfs-ganesha.
"""
import contextlib
import json
import os
import subprocess
import tempfile
import time

from fixtures import (Agent, Cgroup, Netns, UNPRIV, client, connect,
                      nfsguard, sh)
from ganesha import GaneshaServer
from harness import Skip, case, check, check_eq

RELAY_PORT = 20049
TLS_PORT = 3049     # the server-side stunnel, in front of ganesha's 2049


class Stunnel:
    """One stunnel in netns ns: accept on a port, connect on to another,
    TLS on one side (client=yes: plain in, TLS out)."""

    def __init__(self, ns, work, name, accept, to, client_mode):
        self.ns = ns
        self.conf = os.path.join(work, f"{name}.conf")
        cert = os.path.join(work, "cert.pem")
        key = os.path.join(work, "key.pem")
        with open(self.conf, "w") as f:
            f.write(f"foreground = yes\npid =\nsyslog = no\n"
                    f"output = {os.path.join(work, name + '.log')}\n"
                    f"[{name}]\nclient = {'yes' if client_mode else 'no'}\n"
                    f"accept = {accept}\nconnect = {to}\n"
                    + ("" if client_mode else f"cert = {cert}\nkey = {key}\n"))
        self.accept = accept
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "stunnel4", self.conf],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        host, port = self.accept.rsplit(":", 1)
        for _ in range(100):
            r = sh("ip", "netns", "exec", self.ns, "ss", "-Htln",
                   f"sport = :{port}", check=False)
            if r.stdout.strip():
                return self
            time.sleep(0.05)
        self.__exit__()
        raise AssertionError(f"stunnel did not listen on {self.accept}")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()


def relay_chain(stack, ns, work, server):
    """The efs-utils TLS path in front of server, in netns ns: a TLS
    server-side stunnel before its 2049, and root's relay on
    127.0.0.1:RELAY_PORT. A throwaway certificate in work."""
    if not os.path.exists("/usr/bin/stunnel4"):
        raise Skip("no stunnel4 (tools/deps.sh test installs it)")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
       "-subj", "/CN=nfsguard-test", "-days", "1",
       "-keyout", os.path.join(work, "key.pem"),
       "-out", os.path.join(work, "cert.pem"))
    stack.enter_context(Stunnel(ns, work, "efs-server",
                                f"{server.addr}:{TLS_PORT}",
                                f"{server.addr}:2049", False))
    stack.enter_context(Stunnel(ns, work, "efs-relay",
                                f"127.0.0.1:{RELAY_PORT}",
                                f"{server.addr}:{TLS_PORT}", True))


@contextlib.contextmanager
def relay_env():
    with contextlib.ExitStack() as stack:
        netns = stack.enter_context(Netns())
        work = stack.enter_context(tempfile.TemporaryDirectory())
        os.chmod(work, 0o755)
        server = stack.enter_context(
            GaneshaServer(netns.name, os.path.join(work, "ganesha")))
        relay_chain(stack, netns.name, work, server)
        cg = stack.enter_context(Cgroup())
        yield netns, server, cg, work


def relay_cat(netns, cg, server, uid):
    """nfs-cat through the relay, asserting uid 0 to the server."""
    url = (f"nfs://127.0.0.1{server.pseudo}/secret.txt?version=4&uid=0"
           f"&gid=0&nfsport={RELAY_PORT}")
    return client(netns, cg, ["/usr/bin/nfs-cat", url], uid=uid)


@case
def tls_relay_port_refused_for_users_on_loopback_only():
    with relay_env() as (netns, server, cg, work):
        r = relay_cat(netns, cg, server, uid=None)
        check(server.matches_secret(r.stdout),
              f"without nfsguard, the relay reaches the file: {r.stderr}")
        probe = sh("ip", "netns", "exec", netns.name, nfsguard(), "probe",
                   "--json", check=False)
        relays = json.loads(probe.stdout)["tls_relays"]
        check_eq([(r["port"], r["uid"], r["comm"], r["governed"])
                  for r in relays], [(RELAY_PORT, 0, "stunnel4", True)],
                 "nfsguard probe lists the relay, root's and governed")
        agent = Agent(["--cgroup", cg.rel, "--json"])
        with agent:
            root = relay_cat(netns, cg, server, uid=None)
            check(server.matches_secret(root.stdout),
                  f"root's nfs-cat through the relay: {root.stderr}")
            user = relay_cat(netns, cg, server, uid=UNPRIV)
            check(user.returncode != 0 and
                  not server.matches_secret(user.stdout + user.stderr),
                  "uid 1000's nfs-cat through the relay must fail")
            plain = connect(netns, cg, "127.0.0.1", RELAY_PORT, uid=UNPRIV)
            check_eq(plain["result"], "EPERM", "uid 1000 to the relay port")
            # The same port elsewhere than loopback is not a relay's.
            other = connect(netns, cg, server.addr, RELAY_PORT, uid=UNPRIV)
            check_eq(other["result"], "ECONNREFUSED",
                     "uid 1000 to port 20049 of a non-loopback address")
            agent.stop()
        mine = [e for e in agent.events() if e.get("pid") == plain["pid"]]
        check_eq([(e["verdict"], e["reason"], e.get("port_kind"), e["dport"])
                  for e in mine],
                 [("refused", "owner", "efs-tls-relay", RELAY_PORT)],
                 "the refusal names the relay port")


@case
def efs_utils_range_is_honoured():
    """efs-utils.conf's port_range_* move the governed range; a file a
    user could write is not trusted."""
    with contextlib.ExitStack() as stack:
        netns = stack.enter_context(Netns())
        cg = stack.enter_context(Cgroup())
        work = stack.enter_context(tempfile.TemporaryDirectory())
        conf = os.path.join(work, "efs-utils.conf")
        with open(conf, "w") as f:
            f.write("[mount]\nport_range_lower_bound = 30049\n"
                    "port_range_upper_bound = 30059\n")
        os.chmod(conf, 0o644)
        agent = stack.enter_context(
            Agent(["--cgroup", cg.rel, "--json", "--efs-utils-conf", conf]))
        check_eq(connect(netns, cg, "127.0.0.1", 30050, uid=UNPRIV)["result"],
                 "EPERM", "uid 1000 to 30050 under the file's range")
        check_eq(connect(netns, cg, "127.0.0.1", 20049, uid=UNPRIV)["result"],
                 "ECONNREFUSED", "20049 is not governed under that range")
        # A user's file: the built-in range, at the next reload.
        os.chown(conf, UNPRIV, UNPRIV)
        r = agent.cli("reload", "--json")
        check_eq(r.returncode, 0, f"reload: {r.stderr}")
        check_eq(connect(netns, cg, "127.0.0.1", 20049, uid=UNPRIV)["result"],
                 "EPERM", "the built-in range once the file is not trusted")
        check_eq(connect(netns, cg, "127.0.0.1", 30050, uid=UNPRIV)["result"],
                 "ECONNREFUSED", "the untrusted file's range is dropped")
