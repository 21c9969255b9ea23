# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The markdown report: the machine, the method, every table, the targets.

Values are medians over the rounds with (min–max) beside them; a ratio is
taken round by round against its base and then summarised the same way.
"""
import datetime
import json
import os
import platform
import subprocess

import targets
from env import BenchError
from phases import COST_MEASURES, CPU_CONDS, CPU_MEASURES, PATHS


class Results:
    """What the phases measured, filled in by run.py."""

    def __init__(self, plan):
        self.plan = plan
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.cost_conds = self.cost = None
        self.turn_conds = self.turns = self.cpu = None
        self.per_packet = None
        self.program_conds = self.program = None
        self.policy_conds = self.policy = None
        self.refusal = self.floods = None
        self.elapsed_s = 0
        self.unused = None	# optional kernel features nfsguard runs without

    def probe(self, build):
        """What 'nfsguard probe' says this kernel runs without."""
        out = subprocess.run([os.path.join(build, "nfsguard"), "probe",
                              "--json"], capture_output=True, text=True)
        if out.returncode:
            raise BenchError(f"nfsguard probe failed: {out.stderr.strip()}")
        self.unused = [f["name"] for f in json.loads(out.stdout)["features"]
                       if not f["in_use"]]

    @property
    def guard_key(self):
        """The key of nfsguard among the program-cost conditions."""
        return self.program_conds[-1].key


def _first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True).stdout
    except FileNotFoundError:
        return "not installed"
    return (out.strip().splitlines() or ["unknown"])[0]


def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.machine()


def _mem_gib():
    with open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
    return kib / (1 << 20)


def _revision():
    """The commit measured, and whether tracked files differ from it."""
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    git = ["git", "-C", repo]
    head = _first_line(git + ["rev-parse", "--short", "HEAD"])
    changed = subprocess.run(git + ["status", "--porcelain",
                                    "--untracked-files=no"],
                             capture_output=True, text=True).stdout.strip()
    return head + (" + uncommitted changes" if changed else "")


def _table(head, rows):
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _machine(r, build):
    ncpu = len(os.sched_getaffinity(0))
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = "unknown"
    command = "sudo make bench" + (" BENCH_QUICK=1" if r.plan.quick else "")
    return _table(["", ""], [
        ("date", r.started.strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{_cpu_model()}, {ncpu} CPUs, {_mem_gib():.0f} GiB"),
        ("kernel", platform.release()),
        ("nfsguard runs without", ", ".join(r.unused) or "nothing"),
        ("system", f"Debian {debian}"),
        ("nfsguard", _first_line([os.path.join(build, "nfsguard"),
                                  "--version"]) + f", commit {_revision()}"),
        ("firewalls", _first_line(["iptables", "-V"]) + "; "
         + _first_line(["nft", "-v"])),
        ("command", f"`{command}` ({r.elapsed_s:.0f} s)"),
    ])


def _method(r):
    p = r.plan
    return (
        "Everything runs in a network namespace and cgroups the bench "
        "creates: traffic stays on that namespace's loopback, rules live in "
        "it, programs attach to the bench's cgroups. Clients are pinned to "
        "one CPU, the sink that serves them to the other.\n\n"
        "Before a condition is timed, the bench reads back what is "
        "installed (programs on the cgroup, rules in the namespace) and "
        "checks that uid 1000 → 2049 is refused, dropped or let through as "
        "intended, on IPv4 and IPv6, while root → 2049 and uid 1000 → 5001 "
        "connect; after it, that nothing is left. Each condition is "
        "installed, checked, measured and removed in every round of the "
        "orientation rounds, interleaved round by round (A B C, A B C, …): "
        f"{p.rounds} rounds of {p.cycle_s:g} s per workload. No target is "
        "judged on them: on a shared VM they swing by tens of percent, "
        "nothing against itself too. Every target is judged on turns "
        "instead: the conditions installed at once (on sibling cgroups, or "
        "a second namespace for a firewall rule), a worker in each, taking "
        "turns of milliseconds in a rotating order, the ratio taken per "
        "turn. Program costs are read from the kernel (run_time_ns / "
        "run_cnt with `kernel.bpf_stats_enabled`, which is on for them "
        "only and so included in them) around every turn; a run count "
        "that differs from the connects made stops the bench.\n\n"
        "A workload's value is the median over chunks of its run (64 "
        "connect cycles, 1 MiB of bulk data, 16 transactions): a chunk that "
        "the VM's scheduling stalls falls outside it. Values are medians "
        "with (min–max) over the rounds; a ratio (×) is taken within each "
        "round against its base and then summarised the same way. "
        "'nothing, again' is measured last in each round: its ratio to "
        "'nothing' is what noise and drift alone give. A connect cycle is "
        "socket(), connect() and close() with SO_LINGER 0, so that no "
        "TIME_WAIT socket is left behind.")


def _cost_table(r):
    head = ["condition"]
    for m in COST_MEASURES:
        head += [f"{m.label} ({m.unit})", "×"]
    rows = []
    for cond in r.cost_conds:
        if cond.needs:
            rows.append([cond.label] + [f"not measured: needs {cond.needs}"]
                        + [""] * (2 * len(COST_MEASURES) - 1))
            continue
        row = [cond.label]
        for m in COST_MEASURES:
            scale, digits = (1e-3, 2) if m.unit == "µs" else (1, 2)
            row.append(r.cost.summary(cond.key, m.key).fmt(scale, digits))
            x = (r.cost.ratio("nothing", cond.key, m.key) if m.key == "rr"
                 else r.cost.ratio(cond.key, "nothing", m.key))
            row.append(x.fmt(digits=3))
        rows.append(row)
    return _table(head, rows) + (
        "\n\n× is the condition against nothing; for request/response it "
        "is a speed ratio (nothing's time over the condition's), so ≥ 1 "
        "is as fast as nothing everywhere but the connect columns.")


def _turns_table(r):
    head, rows = ["condition"], []
    for path in PATHS[:2]:
        head += [f"connect cycle, {path.label} (ns)", "× nothing"]
    for cond in r.turn_conds:
        row = [cond.label]
        for path in PATHS[:2]:
            row += [r.turns.summary(cond.key, path.key).fmt(digits=0),
                    r.turns.ratio(cond.key, "nothing", path.key)
                    .fmt(digits=3)]
        rows.append(row)
    return _table(head, rows) + (
        f"\n\nThe five are installed at once, the programs on sibling "
        f"cgroups and the EFS rule (with its ip6tables twin) in a second "
        f"namespace with a sink of its own, and a worker in each takes "
        f"turns with the others: {r.plan.turns:,} turns of 64 connects "
        f"each, the order rotating, in {r.plan.turn_blocks} blocks with "
        "every condition installed afresh and new workers (where a "
        "condition's programs, cgroups and sockets land in memory moves "
        "its cost by about a percent for as long as they live; each block "
        "draws again). A ratio is taken per turn, a few "
        "milliseconds apart, and shown as its median with the middle half "
        "of the turns (25th–75th percentile). Because programs are "
        "attached elsewhere, 'nothing' here pays the kernel's check for "
        "cgroup programs (its static key is on); the rounds above measure "
        "it with nothing attached anywhere.")


def _program_table(r):
    rows = []
    for path in PATHS:
        null = r.program.summary("null", path.key)
        ours = r.program.summary(r.guard_key, path.key)
        x = r.program.ratio(r.guard_key, "null", path.key)
        rows.append([path.label, null.fmt(digits=0), ours.fmt(digits=0),
                     x.fmt(digits=2)])
    return _table(["path", "null program (ns/run)",
                   f"{r.program_conds[-1].label} (ns/run)", "× null"],
                  rows) + (
        "\n\nBoth are attached at once, to sibling cgroups; a worker in "
        f"each takes turns ({r.plan.stat_turns:,} turns of 64 connects "
        f"per path, in {r.plan.program_blocks} blocks with both programs "
        "loaded afresh: where a program's code and maps land in memory "
        "moves its ns/run by a tenth, and each load draws again), and the "
        "connect4 program's run_time_ns and run_cnt are read through bpf() "
        "around every turn. × is taken per turn; medians with the middle "
        "half of the turns.")


def _cpu_table(r):
    conds = r.turn_conds[:CPU_CONDS]
    rows = []
    for key, label, unit in CPU_MEASURES:
        for c in conds:
            cpu = r.cpu.summary(c.key, key)
            wall = r.cpu.summary(c.key, key + "_wall")
            soft = sum(r.cpu.values[(c.key, key + "_softirq")])
            scale = 1e-3 if key == "bulk" else 1
            rate = (f"{(1 << 20) / wall.median:.2f} GB/s" if key == "bulk"
                    else f"{1e9 / wall.median:,.0f}/s")
            rows.append([label, c.label,
                         cpu.fmt(scale, 1 if key == "bulk" else 0),
                         r.cpu.ratio(c.key, "nothing", key).fmt(digits=3),
                         rate, f"{soft * 10} ms"])
    per_gb = r.cpu.summary("nothing", "bulk").median * 1024 / 1e9
    return _table(["workload", "condition", "CPU per unit (µs per MiB, "
                   "ns per transaction)", "× nothing", "throughput "
                   "(orientation)", "softirq ticks seen (/proc/stat)"],
                  rows) + (
        f"\n\nOne `bulk` worker per condition owns both ends of one "
        f"loopback connection (sender and receiver threads, both on the "
        f"client CPU, fixed 1 MiB socket buffers) and takes turns with the "
        f"others: {r.plan.cpu_turns['bulk']:,} turns of {r.plan.bulk_mib} "
        f"MiB, then {r.plan.cpu_turns['rr']:,} of {r.plan.rr_txns:,} "
        "64-byte transactions, in the blocks of the connect cycle's turns "
        "(a new connection in each). A turn's CPU time is the worker's own "
        "(CLOCK_PROCESS_CPUTIME_ID, both threads; on this kernel softirq "
        "time run in a task's context is inside it) plus what the "
        "ksoftirqd threads used meanwhile (schedstat). CPU time leaves out "
        "what the hypervisor steals and what other tasks take, which is "
        "why it is far steadier on a shared VM than throughput. Nothing "
        f"uses {per_gb:.2f} s of CPU per GB (GiB) here. The "
        "connection is made before a block's first turn, so every packet "
        "timed is one of an established connection; its port is the kernel's "
        "pick, which changes nothing for the backstop (its first test is "
        "the socket's state). The null connect programs run nothing per "
        "packet: their row is the method's control. The null programs "
        "with egress add an empty cgroup_skb/egress program, which every "
        "packet runs: the floor that any per-packet cgroup program pays, "
        "and the base of the target. Softirq ticks are "
        "/proc/stat's, for orientation (10 ms each, sampled).")


def _per_packet_table(r):
    p = r.per_packet
    rows = [[name, f"{p.runs[name]:,}", f"{p.runs[name] / p.mib:.1f}",
             f"{p.ns_per_run[name]:.0f}" if p.runs[name] else "–"]
            for name in sorted(p.runs)]
    egress = p.runs.get("nfsg_egress", 0)
    return _table(["program", "runs", "runs per MiB", "ns/run"], rows) + (
        f"\n\nOne bulk transfer (root → 2049, one connect, "
        f"{p.mib:,.0f} MiB in {r.plan.stat_s:g} s) under nfsguard, with "
        "kernel.bpf_stats_enabled: each program's run_cnt and run_time_ns "
        "before and after. The connect hooks run once per connect; the "
        "backstop (cgroup_skb/egress) runs once per packet the socket "
        f"sends, {egress:,} here, of which one was the SYN: its ns/run is "
        "that of non-SYN packets, the state test and return. Loopback "
        "sends 64 KiB segments (GSO), so a real NIC's path, 1.5 KiB "
        "packets, runs it up to forty times as often per MiB.")


def _iptables_table(r):
    rows = []
    for cond in r.cost_conds:
        if not cond.key.startswith("iptables"):
            continue
        rows.append([cond.label,
                     r.cost.ratio(cond.key, "nothing", "cycle_open")
                     .fmt(digits=3),
                     r.cost.ratio(cond.key, "nothing", "bulk").fmt(digits=3)])
    return _table(["iptables", "connect cycle × nothing",
                   "bulk throughput × nothing"], rows)


def _policy_table(r):
    base = f"policy{min(r.plan.policy_sizes)}"
    rows = []
    for cond in r.policy_conds:
        k = cond.key
        rows.append([
            f"{cond.entries:,}",
            r.policy.summary(k, "allow").fmt(digits=0),
            r.policy.ratio(k, base, "allow").fmt(digits=3),
            r.policy.summary(k, "allow_twin").fmt(digits=0),
            r.policy.ratio(k, base, "allow_twin").fmt(digits=3),
            r.policy.summary(k, "refuse").fmt(digits=0),
            r.policy.summary(k, "cold").fmt(digits=0),
            r.policy.ratio(k, base, "cold").fmt(digits=3),
            r.policy.summary(k, "cold_twin").fmt(digits=0),
            r.policy.ratio(k, base, "cold_twin").fmt(digits=3),
        ])
    return _table(["cgroups in the policy", "governed, allowed (ns/run)",
                   "× smallest", "its table's twin (ns/run)", "× smallest",
                   "governed, refused (ns/run)",
                   "cold: governed, allowed (ns/run)", "× smallest",
                   "cold: twin (ns/run)", "× smallest"], rows) + (
        "\n\nOne agent per size, attached to its own cgroup whose children "
        "the policy names (all of them exist, and one more that it does "
        "not); the client runs in the first child. The named policy refuses "
        "uid 1000 and the default does not, so every refusal proves the "
        "cgroup lookup found the entry. "
        + ("Here nfsguard's hooks keep each cgroup's policy index in the "
           "cgroup itself (cgroup local storage, the probe's cgroup_cache): "
           "after a cgroup's first connect under a policy version, its "
           "lookups do not touch the table. "
           if "cgroup_cache" not in r.unused else
           "This kernel has no cgroup cache (the probe's cgroup_cache): "
           "every connect walks the table. ")
        + "The twin is a bare hash lookup "
        "program (bench/nullprog.bpf.c) on the unnamed child, with a worker "
        "of its own: a hash of the size, key, value and flags "
        "(BPF_F_NO_PREALLOC) of nfsguard's cgroup map, filled in the same "
        "order (the looked-up cgroup first, so that in its bucket's chain it "
        "sits behind any entry made after it, as nfsguard's client does), "
        "looked up at every connect of its own client: the floor of the "
        "table itself. It runs on connects of its own: two lookups in "
        "tables of 100,000 entries on one connect were seen to perturb "
        "each other, the second growing from 1 to 100,000 entries by "
        "about twice as many ns as the first. The workers take turns, "
        f"{r.plan.policy_turns:,} turns of 64 connects when cached "
        "(connects back to back) and "
        f"{r.plan.cold_turns} turns of {r.plan.cold_chunk} when cold, in "
        f"{r.plan.policy_blocks} blocks with every agent and program "
        "started afresh (where a program's maps land in memory, and which "
        "entries share the looked-up bucket, move its cost by several "
        "percent; each start draws again): "
        f"before each cold connect the worker writes a {r.plan.evict_mib} "
        "MiB buffer, a line at a time, so that the caches and the TLB have "
        "lost the kernel's data.")


def _refusal_table(r):
    e = r.refusal.eperm
    rows = [["nfsguard", "EPERM",
             f"p50 {e['p50_ns'] / 1000:.1f} µs, p99 "
             f"{e['p99_ns'] / 1000:.1f} µs, max {e['max_ns'] / 1000:.0f} µs "
             f"over {e['samples']:,} connects"]]
    for d in r.refusal.drops:
        rows.append([d.label, f"DROP, tcp_syn_retries {d.retries}: "
                     "ETIMEDOUT", f"{d.seconds:.2f} s"])
    n = r.refusal.default_retries
    backoff = 2 ** (n + 1) - 1
    rows.append(["the DROP rules, default", f"tcp_syn_retries {n}: "
                 "computed, not waited for",
                 f"≥ {backoff} s (1 + 2 + … + {2 ** n} s of SYN backoff, "
                 "plus the timer slack seen above)"])
    return _table(["condition", "how it ends", "connect() returns after"],
                  rows)


def _events_table(r):
    rows = [[f.generators, f.rate_limit, f"{f.rate:,.0f}", f"{f.refused:,}",
             f"{f.events:,}", f"{f.suppressed:,}", f"{f.dropped:,}",
             f"{f.cpu_pct:.1f} %", f"{f.cpu_us_per_event:.2f}"]
            for f in r.floods]
    return _table(["generators", "agent", "refused connects/s",
                   "refused (agent's counter)", "events printed",
                   "reported suppressed", "dropped", "agent CPU (one core)",
                   "agent CPU per printed event (µs)"], rows) + (
        f"\n\nEach generator (uid 1000, one per CPU) makes refused connects "
        f"for {r.plan.flood_s:g} s while the agent prints every event as "
        "a JSON line to a file; the agent's CPU is its utime + stime from "
        "/proc over the flood and the drain that follows it. The agent's "
        "counter also counts the two refusals of the check before it. "
        "'Reported suppressed' adds up the counts of the agent's "
        "`suppressed` records; those still held back when it stops are "
        "not reported.")


def _anchors(r):
    c, p = r.cost, r.program
    big = max(r.plan.policy_sizes)
    rows = [
        ("loopback connect cycle", "≈ 17.6 µs",
         f"{c.summary('nothing', 'cycle_open').median / 1000:.1f} µs"),
        ("the EFS rule, per cycle", "+2.5–3.6 %",
         f"{(c.ratio('iptables1', 'nothing', 'cycle_open').median - 1):+.1%}"),
        ("nft, per cycle", "+2–2.7 %",
         f"{(c.ratio('nft', 'nothing', 'cycle_open').median - 1):+.1%}"),
        ("null program", "≈ 41 ns/run",
         f"{p.summary('null', 'pass').median:.0f} ns/run"),
        ("plain hash-lookup program", "≈ 85 ns/run",
         f"nfsguard's governed path: {p.summary(r.guard_key, 'allow').median:.0f}"
         " ns/run"),
        ("refusal without a wakeup per event", "≈ 170 ns/run",
         f"{p.summary(r.guard_key, 'refuse').median:.0f} ns/run"),
        ("1,000 iptables rules", "connect ×15.7, bulk ×0.17",
         f"connect ×{c.ratio('iptables1000', 'nothing', 'cycle_open').median:.1f}"
         f", bulk ×{c.ratio('iptables1000', 'nothing', 'bulk').median:.2f}"),
        (f"a {big:,}-entry BPF hash", "×1.03",
         f"×{r.policy.ratio(f'policy{big}', f'policy{min(r.plan.policy_sizes)}', 'allow').median:.3f}"),
    ]
    return _table(["measure", "anchor (issue 6)", "here"], rows)


def render(r, build):
    verdicts = targets.judge(r)
    count = {s: sum(v.status == s for v in verdicts)
             for s in (targets.MET, targets.MISSED, targets.NOT_MEASURED)}
    unmeasured = [c for c in r.cost_conds if c.needs]
    parts = [
        "# nfsguard benchmark",
        _machine(r, build),
        "## Targets",
        f"{count[targets.MET]} met, {count[targets.MISSED]} missed, "
        f"{count[targets.NOT_MEASURED]} not measured.",
        _table(["target", "measured", "status"], verdicts),
        "## 1–2. Connect cost and throughput, in rounds (orientation)",
        _cost_table(r),
        "## 1. Connect cost, in turns",
        _turns_table(r),
        "## 2. Per-packet cost: CPU time per byte, in turns",
        _cpu_table(r),
        "## 2. Per-packet cost: which programs run per packet",
        _per_packet_table(r),
        "## 3. Program cost (kernel's bpf_stats), in turns",
        _program_table(r),
        "## 4. Scaling",
        _iptables_table(r),
        _policy_table(r),
        "## 5. Refused connect: time until connect() returns (uid 1000 → 2049)",
        _refusal_table(r),
        "## 6. Events under a flood of refused connects",
        _events_table(r),
        "## Anchors from the issue, for orientation",
        _anchors(r),
        "## Method",
        _method(r),
    ]
    if unmeasured:
        parts += ["## Not measured", "\n".join(
            f"- {c.label}: needs {c.needs}" for c in unmeasured)]
    return "\n\n".join(parts) + "\n"


def render_program(r):
    """The program costs alone (run.py --only program)."""
    verdicts = targets.judge_program(r)
    return "\n\n".join([
        f"## Program cost on Linux {platform.release()}",
        _program_table(r),
        _table(["target", "measured", "status"], verdicts)]) + "\n"


def render_policy(r):
    """The policy-size part alone (run.py --only policy)."""
    return "\n\n".join([
        f"## Policy size on Linux {platform.release()}",
        _policy_table(r),
        _table(["target", "measured", "status"],
               [targets.policy_size(r)])]) + "\n"


def render_turns(r):
    """The connect cycle and CPU time in turns alone (run.py --only
    turns)."""
    return "\n\n".join([
        f"## Connect cycle and CPU time in turns on Linux {platform.release()}",
        _turns_table(r), _cpu_table(r),
        _table(["target", "measured", "status"],
               targets.judge_turns(r))]) + "\n"


def render_events(r):
    """The event floods alone (run.py --only events)."""
    return "\n\n".join([
        f"## Event floods on Linux {platform.release()}",
        _events_table(r),
        _table(["target", "measured", "status"], targets.judge_events(r))]) \
        + "\n"


def write(text, outdir):
    os.makedirs(outdir, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc)
    path = os.path.join(outdir, stamp.strftime("%Y-%m-%dT%H%MZ.md"))
    with open(path, "w") as f:
        f.write(text)
    return path
