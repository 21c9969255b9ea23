# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Issue 6's targets, each judged met or missed with its number.

A target whose measurement needs a feature nfsguard lacks is "not
measured", with the feature named. Nothing here tunes a measurement: it
only reads the results.
"""
import collections

MET, MISSED, NOT_MEASURED = "met", "**missed**", "not measured"

Verdict = collections.namedtuple("Verdict", "target measured status")


def _judge(ok):
    return MET if ok else MISSED


def _allowed_vs_null(r):
    x = r.program.ratio(r.guard_key, "null", "pass")
    return Verdict("allowed, ungoverned path: ≤ 1.5× the null program's "
                   "ns/run", f"{x.median:.2f}× ({x.lo:.2f}–{x.hi:.2f})",
                   _judge(x.median <= 1.5))


def _cycle_noise(r):
    """Judged on the turns, which resolve 1 %; the rounds are shown too."""
    x = r.turns.ratio("nfsguard", "nothing", "pass")
    rounds = r.cost.ratio("nfsguard", "nothing", "cycle_open")
    noise = r.cost.ratio("nothing-again", "nothing", "cycle_open")
    return Verdict("connect cycle, ungoverned port: within 1 % of nothing",
                   f"in turns {x.median:.3f}× ({x.lo:.3f}–{x.hi:.3f}); in "
                   f"rounds {rounds.median:.3f}×, the control "
                   f"{noise.median:.3f}×",
                   _judge(abs(x.median - 1) <= 0.01))


def _cycle_below_efs(r):
    ours = r.cost.ratio("nfsguard", "nothing", "cycle_open")
    efs = r.cost.ratio("iptables1", "nothing", "cycle_open")
    return Verdict("connect cycle, ungoverned port: below the EFS rule's",
                   f"{ours.median:.3f}× against {efs.median:.3f}×",
                   _judge(ours.median < efs.median))


def _governed_vs_null(r):
    x = r.program.ratio(r.guard_key, "null", "allow")
    return Verdict("governed path (root → 2049): ≤ 2.5× the null program",
                   f"{x.median:.2f}× ({x.lo:.2f}–{x.hi:.2f})",
                   _judge(x.median <= 2.5))


def _refused_ns(r):
    x = r.program.summary(r.guard_key, "refuse")
    return Verdict("refused path, event included: ≤ 300 ns/run",
                   f"{x.fmt(digits=0)} ns", _judge(x.median <= 300))


def _per_packet(measure, what):
    def judge(r):
        if measure == "bulk":
            x = r.cost.ratio("nfsguard", "nothing", measure)
        else:   # a speed ratio: the time per transaction, inverted
            x = r.cost.ratio("nothing", "nfsguard", measure)
        return Verdict(f"{what}: ratio to nothing ≥ 0.98",
                       f"{x.median:.3f}× ({x.lo:.3f}–{x.hi:.3f})",
                       _judge(x.median >= 0.98))
    return judge


def _policy_size(r):
    small, big = min(r.plan.policy_sizes), max(r.plan.policy_sizes)
    x = r.policy.ratio(f"policy{big}", f"policy{small}", "allow")
    return Verdict(f"policy of {small:,} → {big:,} cgroups: governed "
                   "ns/run ratio ≤ 1.1",
                   f"{x.median:.3f}× ({x.lo:.3f}–{x.hi:.3f})",
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


TARGETS = (_allowed_vs_null, _cycle_noise, _cycle_below_efs,
           _governed_vs_null, _refused_ns,
           _per_packet("bulk", "bulk throughput"),
           _per_packet("rr", "64-byte request/response"),
           _policy_size, _latency, _zero_drops, _flood_cpu)


def judge(results):
    return [t(results) for t in TARGETS]
