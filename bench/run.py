# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""nfsguard's benchmark: 'sudo make bench' runs it after building.

    /usr/bin/python3 bench/run.py [--build DIR] [--quick] [--out DIR]
    /usr/bin/python3 bench/run.py --only program|policy|turns|events [--build DIR] [--quick]

Measures nfsguard side by side with what it replaces (the EFS iptables
rule, its nftables equivalent) and with a null cgroup program, inside a
network namespace and cgroups of its own, then prints a markdown report
and writes it to bench/results/. Exit status 0 when the report was
written (targets missed included: they are in the report), 1 when the
bench could not measure, 2 for bad usage, 130 when interrupted (Ctrl-C or
SIGTERM), after cleaning up.
"""
import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Run as root in a user's checkout: leave no root-owned __pycache__ there.
sys.dont_write_bytecode = True

import phases  # noqa: E402
import report  # noqa: E402
from conditions import (Iptables, Nfsguard, Nft, Nothing,  # noqa: E402
                        NullProgram)
from env import BenchError, Env, Sysctl  # noqa: E402

TOOLS = ("ip", "setpriv", "bpftool", "iptables", "ip6tables",
         "iptables-restore", "ip6tables-restore", "nft", "sysctl")
BINARIES = ("nfsguard", "bench/sink", "bench/cycle", "bench/stream",
            "bench/rr", "bench/probe", "bench/bulk", "bench/nullprog")


STARTED = time.monotonic()


def say(msg):
    """Progress, on stderr, with the time since the start."""
    print(f"bench: {time.monotonic() - STARTED:4.0f} s  {msg}",
          file=sys.stderr, flush=True)


def check_ready(build):
    if os.geteuid() != 0:
        raise BenchError("the bench needs root (namespaces, cgroups, BPF): "
                         "run sudo make bench")
    for tool in TOOLS:
        if not shutil.which(tool):
            raise BenchError(f"{tool} is not installed: run 'make bench', "
                             "which installs what it needs")
    for b in BINARIES:
        if not os.access(os.path.join(build, b), os.X_OK):
            raise BenchError(f"{os.path.join(build, b)} is missing: run "
                             "'make bench', which builds it")


def measure(env, plan):
    """Every phase, in order; the results for the report."""
    # nfsguard next to its baseline, so that drift between them is least.
    cost_conds = [Nothing(env), Nfsguard(env), NullProgram(env),
                  Iptables(env), Nft(env), Nfsguard(env, tracing=True),
                  Iptables(env, 100, twin=False),
                  Iptables(env, 1000, twin=False),
                  Nothing(env, control=True)]
    measured = [c for c in cost_conds if not c.needs]
    r = report.Results(plan)
    r.probe(env.build)
    r.cost_conds = cost_conds
    r.cost = phases.cost(env, measured, plan, say)
    r.turns, r.turn_conds, r.cpu = phases.turns(env, plan, say)
    # Timings above run without the kernel's statistics: they cost.
    with Sysctl("kernel.bpf_stats_enabled", 1):
        r.program, r.program_conds = phases.program(env, plan, say)
        r.per_packet = phases.per_packet(env, plan, say)
        r.policy, r.policy_conds = phases.policy_size(env, plan, say)
    r.refusal = phases.refusal(env, plan, say)
    r.floods = phases.events(env, plan, say)
    return r


def measure_only(env, plan, part):
    """One part alone (program costs, policy size, the connect cycle and
    CPU time in turns, the event floods): its tables, verdicts."""
    r = report.Results(plan)
    r.probe(env.build)
    if part == "turns":
        r.turns, r.turn_conds, r.cpu = phases.turns(env, plan, say)
        return r
    if part == "events":
        r.floods = phases.events(env, plan, say)
        return r
    with Sysctl("kernel.bpf_stats_enabled", 1):
        if part == "program":
            r.program, r.program_conds = phases.program(env, plan, say)
        else:
            r.policy, r.policy_conds = phases.policy_size(env, plan, say)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--quick", action="store_true",
                    help="fewer rounds and shorter runs (a smoke test)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="where the markdown report goes")
    ap.add_argument("--only", choices=("program", "policy", "turns", "events"),
                    help="measure the program costs, the policy size, "
                    "the connect cycle and CPU time in turns, or the event "
                    "floods only, report on stdout")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    # Ctrl-C (and SIGTERM) unwind once, so that everything is cleaned up;
    # another one while cleaning up is ignored. The workload tools get the
    # terminal's SIGINT too: what they report after it is the interrupt's.
    interrupted = []

    def interrupt(sig, frame):
        if interrupted:
            return
        interrupted.append(sig)
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)

    plan = phases.Plan(args.quick)
    try:
        check_ready(build)
        with contextlib.ExitStack() as stack:
            workdir = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="nfsg-bench-"))
            # Off while timing, whatever it was; restored at the end.
            stack.enter_context(Sysctl("kernel.bpf_stats_enabled", 0))
            env = Env(stack, build, workdir)
            if args.only:
                results = measure_only(env, plan, args.only)
            else:
                results = measure(env, plan)
        results.elapsed_s = time.monotonic() - STARTED
        if args.only:
            print({"program": report.render_program,
                   "policy": report.render_policy,
                   "turns": report.render_turns,
                   "events": report.render_events}[args.only](results))
            return 0
        text = report.render(results, build)
        path = report.write(text, args.out)
    except BenchError as e:
        if not interrupted:
            print(f"bench: {e}", file=sys.stderr)
            return 1
        print("bench: interrupted: cleaned up", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("bench: interrupted: cleaned up", file=sys.stderr)
        return 130
    print(text)
    say(f"report written to {os.path.relpath(path)} "
        f"({results.elapsed_s:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
