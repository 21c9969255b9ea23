# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""What is installed while a measurement runs, and proof that it is.

A condition is put in place, checked, measured and removed again. The
check is twofold: the installed state is read back (programs on the
cgroup, rules in the namespace), and the condition must do what it is for:
uid 1000 to port 2049 refused (EPERM) or dropped (no answer), or let
through, on IPv4 and IPv6, while root to 2049 and uid 1000 to an ungoverned
port always connect. A condition that failed to install stops the bench
instead of producing a flattering number. After removal, the state must be
empty again.

A condition that needs a feature nfsguard lacks names the feature in
`needs` and is reported as not measured; adding it later is a matter of
filling in its up() and dropping `needs`.
"""
import contextlib
import json
import os
import re
import time

from env import (BenchError, Daemon, GOVERNED_PORT, OPEN_PORT, UNPRIV, V4,
                 V6, sh)

OK, EPERM, DROPPED = "ok", "EPERM", "timeout"
NFT_TABLE = "nfsg_bench"
# The EFS guide's rule, as the guide writes it.
EFS_RULE = ("-m owner --uid-owner 1-4294967294 -m tcp -p tcp "
            f"--dport {GOVERNED_PORT} -j DROP")
NFT_RULESET = f"""table inet {NFT_TABLE} {{
	chain output {{
		type filter hook output priority filter; policy accept;
		meta skuid != 0 tcp dport {GOVERNED_PORT} drop
	}}
}}
"""
# Filler rules for the scaling rows: the EFS rule for other ports.
FILLER_PORT = 20000
# The embedded default policy, written out: the bench never reads
# /etc/nfsguard/nfsguard.conf.
DEFAULT_POLICY = f"""[default]
ports = {GOVERNED_PORT}
protocols = tcp
privileged_uids = 0
privileged_gids = none
mode = enforce
"""
NFSGUARD_PROGRAMS = ("nfsg_connect4", "nfsg_connect6", "nfsg_egress",
                     "nfsg_sendmsg4", "nfsg_sendmsg6")
# The agent loads one build of its hooks (nfsg_connect4, _p or _l): the
# bench names them all by their stem.
BUILD_SUFFIX = re.compile(r"_[pl]$")


class State:
    """What is in force: programs on a cgroup, rules in the namespace."""

    def __init__(self, programs=(), rules4=0, rules6=0, nft=False):
        self.programs = tuple(sorted(programs))
        self.rules4, self.rules6, self.nft = rules4, rules6, nft

    def __eq__(self, other):
        return vars(self) == vars(other)

    def __str__(self):
        return (f"programs {', '.join(self.programs) or 'none'}; "
                f"{self.rules4} iptables and {self.rules6} ip6tables rules; "
                f"nft table {'present' if self.nft else 'absent'}")


def attached(cgroup):
    """[(name, id)] of the programs attached to the cgroup itself."""
    show = sh("bpftool", "-j", "cgroup", "show", cgroup.path).stdout
    return [(BUILD_SUFFIX.sub("", p["name"]), p["id"])
            for p in json.loads(show.strip() or "[]")]


def read_state(env, cgroup, netns=None):
    ns = netns or env.netns
    rules = [sum(line.startswith("-A ") for line in
                 sh(*ns.exec, tool, "-S", "OUTPUT").stdout.splitlines())
             for tool in ("iptables", "ip6tables")]
    tables = sh(*ns.exec, "nft", "list", "tables").stdout.splitlines()
    return State([name for name, _ in attached(cgroup)], rules[0], rules[1],
                 f"table inet {NFT_TABLE}" in tables)


class Condition:
    key = ""
    label = ""
    needs = None        # the missing feature, when it cannot be measured yet
    # What uid 1000 to the governed port gets, on IPv4 and IPv6.
    refusal4 = refusal6 = OK
    connect4 = None     # name of its connect4 program, if it has one

    def __init__(self, env, cgroup=None, netns=None):
        """Attached to, and measured in, cgroup (default: env.work), its
        rules in netns (default: env.netns)."""
        self.attach = self.client = cgroup or env.work
        self.netns = netns or env.netns

    def state(self):
        return State()

    def prove(self, env):
        """What else must be seen, after verify(), before timing."""

    def up(self, env):
        pass

    def down(self, env):
        pass


class Nothing(Condition):
    """Nothing installed. As the control, measured again at the end of each
    round: its ratio to the first shows what noise alone does."""

    def __init__(self, env, control=False):
        super().__init__(env)
        self.key, self.label = (("nothing-again", "nothing, again (control)")
                                if control else ("nothing", "nothing"))


class Iptables(Condition):
    """The EFS rule first, then rules-1 copies for other ports; with twin,
    the ip6tables twin of the EFS rule too."""

    def __init__(self, env, rules=1, twin=True, netns=None):
        super().__init__(env, netns=netns)
        self.rules, self.twin = rules, twin
        self.key = f"iptables{rules}"
        if rules == 1:
            self.label = "EFS iptables rule" + (" + ip6tables twin"
                                               if twin else "")
        else:
            self.label = f"iptables, {rules:,} rules" + ("" if twin
                                                         else " (IPv4)")
        self.refusal4 = DROPPED
        self.refusal6 = DROPPED if twin else OK

    def state(self):
        return State(rules4=self.rules, rules6=1 if self.twin else 0)

    def _restore(self, env, tool, rules):
        text = "*filter\n" + "".join(f"-A OUTPUT {r}\n" for r in rules)
        sh(*self.netns.exec, tool, input=text + "COMMIT\n")

    def up(self, env):
        fillers = [EFS_RULE.replace(f"--dport {GOVERNED_PORT}",
                                    f"--dport {FILLER_PORT + i}")
                   for i in range(self.rules - 1)]
        self._restore(env, "iptables-restore", [EFS_RULE] + fillers)
        if self.twin:
            self._restore(env, "ip6tables-restore", [EFS_RULE])

    def down(self, env):
        for tool in ("iptables", "ip6tables"):
            sh(*self.netns.exec, tool, "-F", "OUTPUT")


class Nft(Condition):
    key, label = "nft", "nft `meta skuid != 0 tcp dport 2049 drop`"
    refusal4 = refusal6 = DROPPED

    def state(self):
        return State(nft=True)

    def up(self, env):
        sh(*env.netns.exec, "nft", "-f", "-", input=NFT_RULESET)

    def down(self, env):
        tables = sh(*env.netns.exec, "nft", "list", "tables").stdout
        if f"table inet {NFT_TABLE}" in tables.splitlines():
            sh(*env.netns.exec, "nft", "delete", "table", "inet", NFT_TABLE)


class NullProgram(Condition):
    """Null programs on the connect hooks; with egress=True on
    cgroup_skb/egress too: the floor of every hook nfsguard's TCP path
    uses, its per-packet backstop's included."""
    key, label = "null", "null cgroup program"
    connect4 = "nfsg_null4"

    def __init__(self, env, cgroup=None, egress=False):
        super().__init__(env, cgroup)
        self.egress = egress
        if egress:
            self.key, self.label = "null_eg", "null programs, egress too"
        self.daemon = None

    def state(self):
        return State(("nfsg_null4", "nfsg_null6")
                     + (("nfsg_null_eg",) if self.egress else ()))

    def up(self, env):
        argv = [env.tool("nullprog")] + (["-E"] if self.egress else [])
        self.daemon = Daemon(argv + [self.attach.path], "attached to",
                             env.workdir, self.key)
        self.daemon.start()

    def down(self, env):
        if not self.daemon:
            return
        rc, err = self.daemon.stop()
        if rc != 0:
            raise BenchError(f"nullprog exited {rc}: {err.strip()}")


class HashProgram:
    """Beside a PolicyTable: the twin of its cgroup table, nullprog's bare
    hash lookup program on the tree's last child (its own client, which
    the policy does not name, so that nfsguard's measured connects run no
    other table lookup), its hash holding the ids of the tree's cgroups,
    its client's first, sized and flagged as nfsguard's (bench/nullprog.c):
    one entry more than nfsguard's table. A context manager: it is
    attached, and seen attached, on entry; on exit it is detached and must
    have found its key at every lookup."""

    def __init__(self, env, tree):
        self.env, self.tree = env, tree
        self.client = tree.child(len(tree.children) - 1)
        self.daemon, self.prog_id = None, None

    def __enter__(self):
        argv = [self.env.tool("nullprog"), "-H", self.tree.path]
        self.daemon = Daemon(argv + [self.client.path], "attached to",
                             self.env.workdir,
                             f"twin{len(self.tree.children)}")
        self.daemon.start(timeout=120)
        m = re.search(r"program id (\d+)", self.daemon.stderr())
        ids = [pid for name, pid in attached(self.client)
               if name == "nfsg_hash4"]
        if not m or int(m.group(1)) not in ids:
            self.__exit__()
            raise BenchError(f"nullprog -H {self.tree.path}: its program is "
                             f"not on {self.client.path}")
        self.prog_id = int(m.group(1))
        return self

    def __exit__(self, *exc):
        rc, err = self.daemon.stop()
        failing = bool(exc) and exc[0] is not None
        if rc != 0 and not failing:
            raise BenchError(f"nullprog -H exited {rc}: {err.strip()}")


COUNTER = re.compile(r"(allowed|refused|audited|dropped) (\d+)")


SUPPRESSED = re.compile(r'"type":"suppressed","count":(\d+)')


class Nfsguard(Condition):
    """build/nfsguard run on a cgroup with a configuration file of ours,
    events as JSON lines; with tracing, --trace; with rate, --rate (0: no
    limit; None: the agent's default). After down(), `counters` holds what
    the agent reported when it stopped ({"refused": N, "dropped": N, ...}),
    `events` how many refusals it printed and `suppressed` how many it
    reported held back by the rate limit.
    """
    key, label = "nfsguard", "nfsguard, default policy"
    refusal4 = refusal6 = EPERM
    connect4 = "nfsg_connect4"

    def __init__(self, env, tracing=False, rate=None, cgroup=None):
        super().__init__(env, cgroup)
        self.tracing, self.rate = tracing, rate
        if tracing:
            self.key, self.label = "nfsguard-tracing", "nfsguard, tracing on"
        if rate == 0:
            self.key += "-norate"
            self.label += ", no rate limit"
        self.daemon = None
        self.counters = self.events = self.suppressed = None

    def state(self):
        return State(NFSGUARD_PROGRAMS)

    def config(self):
        return DEFAULT_POLICY

    def up(self, env):
        self.counters = self.events = self.suppressed = None
        path = os.path.join(env.workdir, f"{self.key}.conf")
        with open(path, "w") as f:
            f.write(self.config())
        argv = [os.path.join(env.build, "nfsguard"), "run", "--config", path,
                "--cgroup", self.attach.rel, "--json",
                # Several agents run at once, none of them the host's.
                "--control", "none"]
        if self.tracing:
            argv.append("--trace")
        if self.rate is not None:
            argv += ["--rate", str(self.rate)]
        self.daemon = Daemon(argv, "enforcing on cgroup", env.workdir,
                             self.key)
        self.daemon.start(timeout=120)
        # The agent goes on without tracing where the kernel refuses it.
        if self.tracing and ", tracing;" not in self.daemon.stderr():
            raise BenchError(f"{self.label}: the agent did not say it "
                             "traces: " + self.daemon.stderr().strip()
                             .splitlines()[-1])

    def prove(self, env):
        """With tracing, verify()'s allowed connect (root → 2049) must show
        up as an established outcome within the agent's print interval."""
        if not self.tracing:
            return
        for _ in range(50):
            with open(self.daemon.out_path) as f:
                if '"outcome":"established"' in f.read():
                    return
            time.sleep(0.02)
        raise BenchError(f"{self.label}: no established outcome was traced "
                         "for root's connect to port 2049")

    @property
    def pid(self):
        return self.daemon.pid

    def down(self, env):
        if not self.daemon:
            return
        rc, err = self.daemon.stop()
        counters = dict((k, int(v)) for k, v in COUNTER.findall(
            err.rpartition("detached;")[2]))
        if rc != 0 or "refused" not in counters:
            last = (err.strip().splitlines() or ["no message"])[-1]
            raise BenchError(f"nfsguard exited {rc} without its counters: "
                             f"{last}")
        self.counters = counters
        self.events = self.suppressed = 0
        with open(self.daemon.out_path) as f:
            for line in f:
                self.events += '"verdict":"refused"' in line
                m = SUPPRESSED.search(line)
                self.suppressed += int(m.group(1)) if m else 0


class PolicyTable(Nfsguard):
    """nfsguard with a policy naming `entries` cgroups: the children of
    its own cgroup `tree` but the last (the twin's client, see
    HashProgram), to which it attaches. Clients run in the first child.
    The default policy lets uid 1000 through and the named one does not,
    so a refusal proves that the lookup found the client's cgroup."""

    def __init__(self, env, tree):
        super().__init__(env, rate=0)   # every refusal makes its event
        self.named = tree.children[:-1]
        self.entries = len(self.named)
        self.key = f"policy{self.entries}"
        self.label = f"nfsguard, {self.entries:,} cgroups in the policy"
        self.attach, self.client = tree, tree.child(0)

    def config(self):
        paths = [os.path.relpath(c, self.attach.mount) for c in self.named]
        return (DEFAULT_POLICY.replace("privileged_uids = 0",
                                       f"privileged_uids = 0, {UNPRIV}")
                + "\n[policy bench]\nprivileged_uids = 0\ncgroups = "
                + "\n  ".join("/" + p for p in paths) + "\n")


# A loopback handshake takes microseconds: no answer by then is a drop.
VERIFY_WAIT_MS = 100


def verify(env, cond):
    """The condition does what it is for, or BenchError."""
    cases = [(UNPRIV, V4, OPEN_PORT, OK), (0, V4, GOVERNED_PORT, OK),
             (UNPRIV, V4, GOVERNED_PORT, cond.refusal4),
             (UNPRIV, V6, GOVERNED_PORT, cond.refusal6)]
    for uid, addr, port, want in cases:
        got = env.run("probe", ["-w", VERIFY_WAIT_MS, addr, port], uid=uid,
                      cgroup=cond.client, netns=cond.netns)["result"]
        if got != want:
            raise BenchError(
                f"{cond.label}: uid {uid} to {addr} port {port} gave {got}, "
                f"expected {want}: the condition is not in force as intended")


def check_state(env, cond, want):
    got = read_state(env, cond.attach, cond.netns)
    if got != want:
        raise BenchError(f"{cond.label}: found {got}; expected {want}")


@contextlib.contextmanager
def installed(env, cond):
    """Put cond in place and prove it; remove it and prove that too."""
    if cond.needs:
        raise BenchError(f"{cond.label} needs {cond.needs}")
    try:
        cond.up(env)
        check_state(env, cond, cond.state())
        verify(env, cond)
        cond.prove(env)
        yield cond
    except BaseException:
        # Already failing: remove what is there, report the first error.
        with contextlib.suppress(BenchError):
            cond.down(env)
        raise
    cond.down(env)
    check_state(env, cond, State())
