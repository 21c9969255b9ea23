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

from conditions import (EPERM, OK, Iptables, Nfsguard, Nft, Nothing,
                        NullProgram, PolicyTable, attached, installed)
from env import (BenchError, Cgroup, GOVERNED_PORT, OPEN_PORT, UNPRIV, V4,
                 sh)
from stats import Series
from workloads import Lockstep, cycle, probe, program_cost, rr, stream


class Plan:
    """How long and how often: the full run, or a quick one."""

    def __init__(self, quick):
        self.quick = quick
        self.rounds = 3 if quick else 20           # cost (measures 1, 2, 4)
        self.cycle_s = self.bulk_s = self.rr_s = 0.1 if quick else 0.2
        self.turns = 300 if quick else 3000        # connect, in turns (1)
        self.stat_rounds = 3 if quick else 9       # program cost (3, 4)
        self.stat_s = 0.2 if quick else 0.3
        self.policy_sizes = (1, 100, 1000, 100000)
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


def turns(env, plan, say):
    """Measure 1 again, finely: nothing, the null program and nfsguard
    installed at once (the programs on sibling cgroups), one `cycle -l`
    worker in each, taking turns chunk by chunk (64 connects), the order
    rotating each turn. A ratio is taken per turn, a few milliseconds
    apart, so the machine's drift cancels. Returns (series, conditions)."""
    series = Series(quartiles=True)
    with contextlib.ExitStack() as stack:
        conds = [stack.enter_context(installed(env, Nothing(env)))]
        for make, name in ((NullProgram, "null"), (Nfsguard, "guard")):
            cgroup = stack.enter_context(Cgroup(env.root.path, name))
            conds.append(stack.enter_context(
                installed(env, make(env, cgroup=cgroup))))
        for path in PATHS[:2]:
            say(f"connect cycle in turns: {path.label}")
            with contextlib.ExitStack() as workers:
                team = [workers.enter_context(Lockstep(
                    env, path.port, path.uid, _expected(cond, path),
                    cond.client)) for cond in conds]
                for t in range(plan.turns):
                    k = t % len(team)
                    for i in list(range(k, len(team))) + list(range(k)):
                        series.add(conds[i].key, path.key, team[i].turn())
    return series, conds


def _expected(cond, path):
    governed = (path.uid, path.port) == (UNPRIV, GOVERNED_PORT)
    return cond.refusal4 if governed else OK


def _measure_paths(env, cond, plan, series, paths):
    """ns per run of cond's connect4 program on each path, and the cycle."""
    ids = dict(attached(cond.attach))
    if cond.connect4 not in ids:
        raise BenchError(f"{cond.label}: no {cond.connect4} on "
                         f"{cond.attach.path}")
    for path in paths:
        ns, r = program_cost(ids[cond.connect4], lambda: cycle(
            env, path.port, path.uid, plan.stat_s, _expected(cond, path),
            cgroup=cond.client))
        series.add(cond.key, path.key, ns)
        series.add(cond.key, path.key + "_cycle", r["median_ns_per_cycle"])


def program(env, conds, plan, say):
    """Measure 3, with kernel.bpf_stats_enabled on: the connect4 program's
    run_time_ns / run_cnt on each of PATHS."""
    series = Series()
    for r in range(plan.stat_rounds):
        say(f"program cost: round {r + 1}/{plan.stat_rounds}")
        for cond in conds:
            with installed(env, cond):
                _measure_paths(env, cond, plan, series, PATHS)
    return series


def policy_size(env, plan, say):
    """Measure 4 for nfsguard, with kernel.bpf_stats_enabled on: one agent
    per policy size, all attached at once to sibling cgroups (so none is
    restarted between rounds), the governed paths measured round by
    round. Returns (series, the conditions)."""
    series = Series()
    with contextlib.ExitStack() as stack:
        conds = []
        for n in plan.policy_sizes:
            say(f"policy size: starting the agent for {n:,} cgroups")
            tree = stack.enter_context(Cgroup(env.root.path, f"p{n}", n))
            conds.append(stack.enter_context(
                installed(env, PolicyTable(env, tree))))
        for r in range(plan.stat_rounds):
            say(f"policy size: round {r + 1}/{plan.stat_rounds}")
            for cond in conds:
                _measure_paths(env, cond, plan, series, PATHS[1:])
        say("policy size: stopping the agents")
    return series, conds


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
