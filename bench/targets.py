# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The targets (issues 6 and 14), each judged met or missed with its number.

Every target that a machine's speed could move is a ratio to a condition
measured in the same run, on the same machine: the null program, nothing,
or the smallest policy; absolute figures stand beside them, for
orientation.

A target whose measurement needs a feature nfsguard lacks is "not
measured", with the feature named. Nothing here tunes a measurement: it
only reads the results.
"""
import collections

MET, MISSED, NOT_MEASURED = "met", "**missed**", "not measured"

Verdict = collections.namedtuple("Verdict", "target measured status")


def _judge(ok):
    return MET if ok else MISSED


def _vs_null(path, limit, what):
    """nfsguard's connect4 ns/run against the null program's, per turn."""
    def judge(r):
        x = r.program.ratio(r.guard_key, "null", path)
        ours = r.program.summary(r.guard_key, path).median
        null = r.program.summary("null", path).median
        return Verdict(f"{what}: ≤ {limit:g}× the null program's ns/run",
                       f"{x.median:.2f}× ({x.lo:.2f}–{x.hi:.2f}); "
                       f"{ours:.0f} against {null:.0f} ns",
                       _judge(x.median <= limit))
    return judge


def _cycle_vs_null(r):
    """Judged on the turns, which resolve well under 1 %. The floor is the
    null programs on every hook nfsguard's TCP path uses, the per-packet
    egress hook's included; the connect hooks' floor alone stands beside
    it."""
    ours = r.turns.ratio("nfsguard", "nothing", "pass")
    floor = r.turns.ratio("null_eg", "nothing", "pass")
    null = r.turns.ratio("null", "nothing", "pass")
    return Verdict("connect cycle, ungoverned port, in turns: ≤ the null "
                   "programs' ratio to nothing + 1 %",
                   f"{ours.median:.4f}× against the null programs' "
                   f"{floor.median:.4f}× (connect hooks only "
                   f"{null.median:.4f}×)",
                   _judge(ours.median <= floor.median + 0.01))


def _cycle_below_efs(r):
    ours = r.turns.ratio("nfsguard", "nothing", "pass")
    efs = r.turns.ratio("iptables1", "nothing", "pass")
    return Verdict("connect cycle, ungoverned port, in turns: below the EFS "
                   "rule's", f"{ours.median:.4f}× against {efs.median:.4f}×",
                   _judge(ours.median < efs.median))


def _not_per_packet(r):
    """Structural: over a bulk transfer of one connect, the connect-path
    programs run once (connect4) or never; only the backstop runs per
    packet."""
    p = r.per_packet
    hooks = {n: c for n, c in p.runs.items() if n != "nfsg_egress"}
    ok = hooks.get("nfsg_connect4") == p.connects and all(
        c == 0 for n, c in hooks.items() if n != "nfsg_connect4")
    shown = ", ".join(f"{n} +{c}" for n, c in sorted(hooks.items()))
    return Verdict("connect-path programs never run per packet: run_cnt "
                   "across a bulk transfer", f"{p.mib:,.0f} MiB over "
                   f"{p.connects} connect: {shown}", _judge(ok))


def _cpu(measure, what):
    """Per-packet cost beyond the kernel's floor for a program on the
    same hooks (the null programs, egress too)."""
    def judge(r):
        x = r.cpu.ratio("nfsguard", "nothing", measure)
        floor = r.cpu.ratio("null_eg", "nothing", measure)
        null = r.cpu.ratio("null", "nothing", measure)
        return Verdict(f"{what}: CPU time (both ends) ≤ the null programs' "
                       "ratio to nothing + 1 %, in turns",
                       f"{x.median:.3f}× (middle half {x.lo:.3f}–"
                       f"{x.hi:.3f}) against the null programs' "
                       f"{floor.median:.3f}× (connect hooks only "
                       f"{null.median:.3f}×)",
                       _judge(x.median <= floor.median + 0.01))
    return judge


def policy_size(r):
    small, big = min(r.plan.policy_sizes), max(r.plan.policy_sizes)
    x = r.policy.ratio(f"policy{big}", f"policy{small}", "allow")
    h = r.policy.ratio(f"policy{big}", f"policy{small}", "allow_twin")
    return Verdict(f"policy of {small:,} → {big:,} cgroups: governed "
                   "ns/run ratio ≤ 1.1, in turns",
                   f"{x.median:.3f}× ({x.lo:.3f}–{x.hi:.3f}); its table's "
                   f"twin, a bare hash lookup, {h.median:.3f}×",
                   _judge(x.median <= 1.1))


def _latency(r):
    e = r.refusal.eperm
    return Verdict("refused connect returns in < 50 µs (p99)",
                   f"p50 {e['p50_ns'] / 1000:.1f} µs, p99 "
                   f"{e['p99_ns'] / 1000:.1f} µs",
                   _judge(e["p99_ns"] < 50000))


def _zero_drops(r):
    unlimited = [f for f in r.floods if f.rate_limit == "no rate limit"]
    top = max(unlimited, key=lambda f: f.rate)
    lost = top.refused - top.events
    return Verdict("zero event drops at the highest refused-connect rate "
                   "(no rate limiting)",
                   f"{top.rate:,.0f}/s: {top.dropped:,} dropped, "
                   f"{lost:,} not printed",
                   _judge(top.dropped == 0 and lost == 0))


def _flood_cpu(r):
    limited = [f for f in r.floods if f.rate_limit != "no rate limit"]
    top = max(limited, key=lambda f: f.rate)
    return Verdict("agent CPU under a flood with rate limiting on: < 5 % "
                   "of one core",
                   f"{top.cpu_pct:.1f} % at {top.rate:,.0f}/s, "
                   f"{top.events:,} events",
                   _judge(top.cpu_pct < 5))


PROGRAM_TARGETS = (_vs_null("pass", 1.5, "allowed, ungoverned path"),
                   _vs_null("allow", 2.5, "governed path (root → 2049)"),
                   _vs_null("refuse", 5, "refused path, event included"))
TURNS_TARGETS = (_cycle_vs_null, _cycle_below_efs,
                 _cpu("bulk", "bulk transfer"),
                 _cpu("rr", "64-byte request/response"))
EVENT_TARGETS = (_zero_drops, _flood_cpu)
TARGETS = PROGRAM_TARGETS + TURNS_TARGETS[:2] + (_not_per_packet,) + \
    TURNS_TARGETS[2:] + (policy_size, _latency) + EVENT_TARGETS


def judge(results):
    return [t(results) for t in TARGETS]


def judge_program(results):
    return [t(results) for t in PROGRAM_TARGETS]


def judge_turns(results):
    return [t(results) for t in TURNS_TARGETS]


def judge_events(results):
    return [t(results) for t in EVENT_TARGETS]
