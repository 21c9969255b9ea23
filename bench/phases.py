# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The measurements of issue 6, one function each.

Every function installs its conditions through conditions.installed(), so
nothing is timed before it has been shown to enforce (or not) as intended.
Conditions are interleaved round by round (A B C, A B C, ...) or, in
turns(), chunk by chunk.
"""
import collections
import contextlib
import os
import time

from bpfstats import Prog
from conditions import (EPERM, OK, HashProgram, Iptables, Nfsguard, Nft,
                        Nothing, NullProgram, PolicyTable, attached,
                        installed)
from env import (BenchError, Cgroup, GOVERNED_PORT, OPEN_PORT, UNPRIV, V4,
                 sh)
from stats import Series
from workloads import (Bulk, Ksoftirqd, Lockstep, cycle, probe, rr,
                       softirq_ticks, stream)


class Plan:
    """How long and how often: the full run, or a quick one."""

    def __init__(self, quick):
        self.quick = quick
        # For orientation only: no target is judged on the rounds.
        self.rounds = 2 if quick else 4            # cost (measures 1, 2, 4)
        self.cycle_s = self.bulk_s = self.rr_s = 0.1 if quick else 0.2
        self.turns = 300 if quick else 3000        # connect, in turns (1)
        self.turn_blocks = 2 if quick else 6       # fresh installs (1, 2)
        # CPU per byte, in turns: a bulk turn's CPU time swings by a
        # fifth on a busy VM, a transaction's by a twentieth.
        self.cpu_turns = {"bulk": 150 if quick else 1500,
                          "rr": 30 if quick else 300}
        self.bulk_mib = 4                          # per turn
        self.rr_txns = 1024                        # per turn
        self.stat_turns = 200 if quick else 2400   # program cost (3)
        self.program_blocks = 2 if quick else 8    # fresh loads each (3)
        self.stat_s = 0.3                          # per-packet runs (2)
        self.policy_sizes = (1, 100, 1000, 100000)
        self.policy_turns = 200 if quick else 2000  # cached (4)
        # fresh agents each (4); a multiple of the sizes, whose order
        # rotates by block
        self.policy_blocks = 4 if quick else 8
        self.cold_turns = 20 if quick else 150     # cold (4)
        self.cold_chunk = 4                        # connects per cold turn
        self.evict_mib = 64
        self.latency_s = 0.5 if quick else 1.0     # refusal (5)
        self.latency_samples = 100000
        self.syn_retries = (1,) if quick else (1, 2)
        self.flood_s = 1.0 if quick else 3.0       # events (6)


Measure = collections.namedtuple("Measure", "key label unit higher run")

COST_MEASURES = (
    Measure("cycle_open", "connect cycle, uid 1000 → ungoverned port", "µs",
            False, lambda env, p: cycle(env, OPEN_PORT, UNPRIV,
                                        p.cycle_s)["median_ns_per_cycle"]),
    Measure("cycle_gov", "connect cycle, root → 2049", "µs", False,
            lambda env, p: cycle(env, GOVERNED_PORT, 0,
                                 p.cycle_s)["median_ns_per_cycle"]),
    Measure("bulk", "bulk throughput, root → 2049", "Gbit/s", True,
            lambda env, p: stream(env, p.bulk_s)["median_gbit_s"]),
    Measure("rr", "64-byte request/response, root → 2049", "µs", False,
            lambda env, p: rr(env, p.rr_s)["median_ns_per_txn"]),
)

Path = collections.namedtuple("Path", "key label uid port")

PATHS = (
    Path("pass", "allowed, ungoverned port (uid 1000 → 5001)", UNPRIV,
         OPEN_PORT),
    Path("allow", "governed, allowed (root → 2049)", 0, GOVERNED_PORT),
    Path("refuse", "governed, refused, event included (uid 1000 → 2049)",
         UNPRIV, GOVERNED_PORT),
)


def cost(env, conds, plan, say):
    """Measures 1, 2 and the iptables half of 4: each condition, each
    round, every workload of COST_MEASURES."""
    series = Series()
    for r in range(plan.rounds):
        say(f"cost: round {r + 1}/{plan.rounds}")
        for cond in conds:
            with installed(env, cond):
                for m in COST_MEASURES:
                    series.add(cond.key, m.key, m.run(env, plan))
    return series


def _rotate(n, t):
    """The order of turn t among n players: each leads in its turn."""
    k = t % n
    return list(range(k, n)) + list(range(k))


def _conditions(env, stack, makers):
    """Install each (make, name): make(env, cgroup=a sibling cgroup
    named name under the bench's root), or make(env) with name None."""
    conds = []
    for make, name in makers:
        cgroup = (stack.enter_context(Cgroup(env.root.path, name))
                  if name else None)
        cond = make(env, cgroup=cgroup) if cgroup else make(env)
        conds.append(stack.enter_context(installed(env, cond)))
    return conds


def turns(env, plan, say):
    """Measure 1 again, finely, and measure 2 by CPU time: nothing, the
    null programs (on the connect hooks, and on those and egress) and
    nfsguard installed at once (the programs on sibling cgroups) and the
    EFS rule in a namespace of its own, one worker in
    each, taking turns chunk by chunk, the order rotating each turn. A
    ratio is taken per turn, milliseconds apart, so the machine's drift
    cancels. The turns come in blocks, each with every condition installed
    afresh and new workers: where a condition's programs, cgroups and
    sockets land in memory moves its cost by about a percent for as long
    as they live, which turns cannot cancel, and each block draws again.
    Returns (series, the conditions of the last block, CPU series)."""
    series, cpu = Series(quartiles=True), Series(quartiles=True)
    n = plan.turn_blocks
    for block in range(n):
        with contextlib.ExitStack() as stack:
            say(f"turns: block {block + 1} of {n}: installing the "
                "conditions")
            conds = _conditions(env, stack, (
                (Nothing, None), (NullProgram, "null"),
                (lambda env, cgroup: NullProgram(env, cgroup, egress=True),
                 "null_eg"),
                (Nfsguard, "guard")))
            conds.append(stack.enter_context(installed(
                env, Iptables(env, netns=env.netns2))))
            for path in PATHS[:2]:
                say(f"connect cycle in turns: {path.label}")
                with contextlib.ExitStack() as workers:
                    team = [workers.enter_context(Lockstep(
                        env, path.port, path.uid, _expected(cond, path),
                        cond.client, cond.netns)) for cond in conds]
                    _warm(team, path.uid, path.port)
                    for t in range(plan.turns // n):
                        for i in _rotate(len(team), t):
                            series.add(conds[i].key, path.key,
                                       team[i].turn())
            _cpu_turns(env, plan, say, conds, cpu)
    return series, conds, cpu


# The conditions of turns() that CPU time is measured for: all but the
# EFS rule.
CPU_CONDS = 4
CPU_MEASURES = (("bulk", "bulk transfer", "MiB"),
                ("rr", "64-byte request/response", "transaction"))


def _cpu_turns(env, plan, say, conds, series):
    """CPU time per MiB and per transaction, both ends together (bulk.c),
    in turns. The EFS rule's namespace has no bulk worker: its rule does
    not match the bench's own port, but every packet walks it, as it
    would on the host."""
    soft = Ksoftirqd()
    for key, label, unit in CPU_MEASURES:
        say(f"CPU time in turns: {label}")
        units = plan.bulk_mib if key == "bulk" else plan.rr_txns
        with contextlib.ExitStack() as workers:
            team = [workers.enter_context(Worker)
                    for Worker in (Bulk(env, c.client, key == "rr", units)
                                   for c in conds[:CPU_CONDS])]
            for w in team:      # the first chunk warms up: not counted
                w.turn()
            for t in range(plan.cpu_turns[key] // plan.turn_blocks):
                for i in _rotate(len(team), t):
                    k0, s0 = soft.ns(), softirq_ticks()
                    cpu_ns, wall_ns, done = team[i].turn()
                    k1, s1 = soft.ns(), softirq_ticks()
                    c = conds[i].key
                    series.add(c, key, (cpu_ns + k1 - k0) / done)
                    series.add(c, key + "_wall", wall_ns / done)
                    series.add(c, key + "_softirq", s1 - s0)


def _refused(uid, port):
    """Does the default policy refuse uid's connects to port?"""
    return (uid, port) == (UNPRIV, GOVERNED_PORT)


def _expected(cond, path):
    return cond.refusal4 if _refused(path.uid, path.port) else OK


def _prog(cond, name, cgroup=None):
    """The program called name on cond's cgroup, opened."""
    ids = dict(attached(cgroup or cond.attach))
    if name not in ids:
        raise BenchError(f"{cond.label}: no {name} on "
                         f"{(cgroup or cond.attach).path}")
    return Prog(ids[name])


def _stat_turn(worker, progs):
    """One turn of worker; each program's ns per run over it, after
    checking that it ran once per connect."""
    before = [p.stats() for p in progs]
    worker.turn()
    out = []
    for p, (ns0, cnt0) in zip(progs, before):
        ns1, cnt1 = p.stats()
        if cnt1 - cnt0 != worker.chunk:
            raise BenchError(f"program {p.id} ran {cnt1 - cnt0} times for "
                             f"{worker.chunk} connects")
        out.append((ns1 - ns0) / (cnt1 - cnt0))
    return out


def program(env, plan, say):
    """Measure 3, with kernel.bpf_stats_enabled on: the null program and
    nfsguard (no rate limit: every refusal makes its event) on sibling
    cgroups, a worker in each taking turns, the connect4 program's
    run_time_ns / run_cnt read around every turn. The turns come in
    blocks, each with both loaded afresh: where a program's code and maps
    land in memory moves its ns/run by a tenth, and a new load draws
    again (a single load measured 1.35 to 1.61× the null program on the
    ungoverned path, run to run). Returns (series, the conditions of the
    last block)."""
    series = Series(quartiles=True)
    for block in range(plan.program_blocks):
        with contextlib.ExitStack() as stack:
            say(f"program cost: block {block + 1} of "
                f"{plan.program_blocks}: loading the programs")
            conds = _conditions(env, stack, (
                (NullProgram, "null"),
                (lambda env, cgroup: Nfsguard(env, rate=0, cgroup=cgroup),
                 "guard")))
            progs = [stack.enter_context(_prog(c, c.connect4))
                     for c in conds]
            for path in PATHS:
                _program_turns(env, plan, say, conds, progs, path, series)
    return series, conds


def _warm(team, uid, port):
    """Turns not counted, so that every turn measured is one of a running
    agent's: a refusal's event writes the ring buffer, whose lines cost a
    trip to memory on its first round (4 MiB, about 590 turns of 64
    events) and come from the shared cache on every later one. A fresh
    agent's first round measured half as much again, and a block of 300
    turns was half first round."""
    for _ in range(WARM_REFUSED if _refused(uid, port) else WARM):
        for w in team:
            w.turn()


# Warm-up turns per block: any path; a refused path (see _warm).
WARM, WARM_REFUSED = 10, 700


def _program_turns(env, plan, say, conds, progs, path, series):
    say(f"program cost in turns: {path.label}")
    with contextlib.ExitStack() as workers:
        team = [workers.enter_context(Lockstep(
            env, path.port, path.uid, _expected(c, path), c.client))
            for c in conds]
        _warm(team, path.uid, path.port)
        for t in range(plan.stat_turns // plan.program_blocks):
            for i in _rotate(len(team), t):
                ns, = _stat_turn(team[i], [progs[i]])
                series.add(conds[i].key, path.key, ns)


PerPacket = collections.namedtuple(
    "PerPacket", "mib connects runs ns_per_run")


def per_packet(env, plan, say):
    """Measure 2's structural half, with kernel.bpf_stats_enabled on: each
    of nfsguard's programs' run count and time across a bulk transfer (one
    connect, root → 2049). Returns PerPacket, runs and ns_per_run by
    program name."""
    say("per-packet: program runs across a bulk transfer")
    with contextlib.ExitStack() as stack:
        cond = stack.enter_context(installed(env, Nfsguard(env)))
        progs = {name: stack.enter_context(Prog(pid))
                 for name, pid in attached(cond.attach)}
        before = {n: p.stats() for n, p in progs.items()}
        r = stream(env, plan.stat_s)
        after = {n: p.stats() for n, p in progs.items()}
    runs = {n: after[n][1] - before[n][1] for n in progs}
    ns = {n: (after[n][0] - before[n][0]) / runs[n] if runs[n] else 0
          for n in progs}
    return PerPacket(r["bytes"] / (1 << 20), 1, runs, ns)


def policy_size(env, plan, say):
    """Measure 4 for nfsguard, with kernel.bpf_stats_enabled on: one agent
    per policy size, all attached at once to sibling cgroups, and beside
    each the twin of its table: a bare hash lookup program on a second
    child cgroup, its hash the size, key, value and flags of nfsguard's
    cgroup map. Its own worker measures it, so that no connect nfsguard's
    cost is read on runs another program's table lookup first. Workers
    take turns; every program's ns/run is read around every turn. Cached:
    connects back to back. Cold: before each connect the worker walks a
    buffer larger than the caches. The turns come in blocks, each with
    agents and programs started afresh: where a program's maps land in
    memory moves its ns/run by several percent, and a new start draws
    again. Returns (series, the conditions of the last block)."""
    series = Series(quartiles=True)
    with contextlib.ExitStack() as trees:
        sizes = plan.policy_sizes
        say(f"policy size: making cgroups for {', '.join(f'{n:,}' for n in sizes)}")
        # n children named by the policy, and one more: the twin's client.
        forest = [trees.enter_context(Cgroup(env.root.path, f"p{n}", n + 1))
                  for n in sizes]
        for block in range(plan.policy_blocks):
            # The second agent started (and its workers) measured 1.12-1.13x
            # the first whatever its size, in both orders of the sizes:
            # each size takes each place in turn.
            k = block % len(forest)
            with contextlib.ExitStack() as stack:
                say(f"policy size: block {block + 1} of "
                    f"{plan.policy_blocks}: starting the agents")
                conds = _policy_block(env, stack, forest[k:] + forest[:k])
                _policy_turns(env, plan, say, conds, series)
    return series, sorted(conds, key=lambda c: c.entries)


def _policy_block(env, stack, forest):
    """An agent and its table's twin per tree, started; each condition
    gets .prog (nfsguard's connect4, opened) and .twin (the HashProgram,
    with .prog)."""
    conds = []
    for tree in forest:
        cond = stack.enter_context(installed(env, PolicyTable(env, tree)))
        cond.prog = stack.enter_context(_prog(cond, cond.connect4))
        cond.twin = stack.enter_context(HashProgram(env, tree))
        cond.twin.prog = stack.enter_context(Prog(cond.twin.prog_id))
        conds.append(cond)
    return conds


def _policy_turns(env, plan, say, conds, series):
    """nfsguard's paths (allowed, refused, cold) on each client, and its
    twin's lookup (allowed and cold) on the twin's, in turns."""
    n = plan.policy_blocks
    runs = (("allow", GOVERNED_PORT, 0, OK, plan.policy_turns // n, 64, 0),
            ("refuse", GOVERNED_PORT, UNPRIV, EPERM, plan.policy_turns // n,
             64, 0),
            ("cold", GOVERNED_PORT, 0, OK, plan.cold_turns // n,
             plan.cold_chunk, plan.evict_mib))
    for key, port, uid, expect, n_turns, chunk, evict in runs:
        say(f"policy size in turns: {key}")
        # (series key, what is read, its worker's cgroup)
        players = [(c.key, key, c.prog, c.client) for c in conds]
        if key != "refuse":
            players += [(c.key, f"{key}_twin", c.twin.prog, c.twin.client)
                        for c in conds]
        with contextlib.ExitStack() as workers:
            team = [workers.enter_context(Lockstep(
                env, port, uid, expect, client, chunk=chunk,
                evict_mib=evict)) for _, _, _, client in players]
            if not evict:
                _warm(team, uid, port)
            for t in range(n_turns):
                for i in _rotate(len(team), t):
                    cond, measure, prog, _ = players[i]
                    ns, = _stat_turn(team[i], [prog])
                    series.add(cond, measure, ns)


Refusal = collections.namedtuple("Refusal", "eperm drops default_retries")
Drop = collections.namedtuple("Drop", "label retries seconds")


def refusal(env, plan, say):
    """Measure 5: how long a refused connect takes to return. nfsguard's
    EPERM over many samples; the DROP rules' ETIMEDOUT once per lowered
    tcp_syn_retries (the default's wait is computed, not waited for)."""
    say("refused-connect latency")
    with installed(env, Nfsguard(env)):
        eperm = cycle(env, GOVERNED_PORT, UNPRIV, plan.latency_s,
                      expect=EPERM, samples=plan.latency_samples)
    key = "net.ipv4.tcp_syn_retries"
    default = int(sh(*env.netns.exec, "sysctl", "-n", key).stdout)
    drops = []
    for retries in plan.syn_retries:
        env.netns.sysctl(key, retries)
        try:
            for cond in (Iptables(env), Nft(env)):
                say(f"refused-connect latency: {cond.label}, "
                    f"tcp_syn_retries {retries}")
                with installed(env, cond):
                    p = probe(env, V4, GOVERNED_PORT, UNPRIV, 120000)
                if p["result"] != "ETIMEDOUT":
                    raise BenchError(f"{cond.label}: a dropped connect "
                                     f"ended with {p['result']}, expected "
                                     "ETIMEDOUT")
                drops.append(Drop(cond.label, retries,
                                  p["elapsed_us"] / 1e6))
        finally:
            env.netns.restore(key)
    return Refusal(eperm, drops, default)


Flood = collections.namedtuple(
    "Flood", "generators rate_limit attempts rate refused events suppressed "
    "dropped cpu_pct cpu_us_per_event")
# The agent prints what is pending at least every 100 ms.
DRAIN_S = 0.5


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # utime and stime, fields 14 and 15 of proc(5); 12 and 13 after comm.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def events(env, plan, say):
    """Measure 6: refused connects as fast as 1..ncpu generators make
    them, the agent printing every event (--rate 0), and then with its
    default rate limit under the fastest flood; its CPU time meanwhile."""
    floods = []
    runs = [(n, 0) for n in range(1, env.ncpu + 1)] + [(env.ncpu, None)]
    for n, rate in runs:
        limit = "no rate limit" if rate == 0 else "default rate limit"
        say(f"events: {n} generator(s), {limit}, {plan.flood_s:g} s")
        agent = Nfsguard(env, rate=rate)
        with installed(env, agent):
            cpu0, t0 = _cpu_seconds(agent.pid), time.monotonic()
            procs = [env.spawn("cycle", ["-t", plan.flood_s, "-e", EPERM, V4,
                                         GOVERNED_PORT], uid=UNPRIV,
                               cpu=env.cpus[i % env.ncpu])
                     for i in range(n)]
            results = [env.result(p, plan.flood_s + 60) for p in procs]
            time.sleep(DRAIN_S)
            cpu = _cpu_seconds(agent.pid) - cpu0
            wall = time.monotonic() - t0
        attempts = sum(r["cycles"] for r in results)
        rate_s = attempts / (max(r["ns"] for r in results) / 1e9)
        floods.append(Flood(n, limit, attempts, rate_s,
                            agent.counters["refused"], agent.events,
                            agent.suppressed, agent.counters["dropped"],
                            100 * cpu / wall,
                            1e6 * cpu / max(agent.events, 1)))
    return floods
