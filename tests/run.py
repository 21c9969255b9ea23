# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Run the whole suite as root: unit tests, then the real-kernel cases.

    /usr/bin/python3 tests/run.py [--build DIR] [NAME_FILTER ...]

Ends with one line: 'N passed, N failed, N skipped'.
"""
import argparse
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Run as root in a user's checkout: leave no root-owned __pycache__ there.
sys.dont_write_bytecode = True

import harness  # noqa: E402

MODULES = ["test_enforce", "test_cli", "test_policy", "test_lifecycle", "test_trace", "test_nfs",
           "test_kernel_nfs", "test_hardening", "test_service", "test_backstop",
           "test_deploy", "test_sockets", "test_tls_relay"]


def unit_tests(results, build):
    """The C unit tests report 'PASS name' / 'FAIL name: why' lines."""
    exe = os.path.join(build, "tests", "unit_tests")
    r = subprocess.run([exe], capture_output=True, text=True)
    seen = 0
    for line in r.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASS", "FAIL"):
            name, _, detail = rest.partition(": ")
            results.record(f"unit.{name}", word, detail)
            seen += 1
    if r.returncode != 0 or not seen:
        results.record("unit.binary", "FAIL",
                       f"exit {r.returncode}, {seen} results: {r.stderr}")


def fuzz_smoke(results, build, seconds=10):
    """The configuration parser and the control socket's request parser
    under libFuzzer for a few seconds each ('make fuzz' runs longer)."""
    for name, exe, corpus, max_len in (
            ("config_parser", "fuzz_config", "corpus", 4096),
            ("control_request_parser", "fuzz_control", "corpus_control", 4200)):
        exe = os.path.join(build, "tests", exe)
        corpus = os.path.join(HERE, "fuzz", corpus)
        with tempfile.TemporaryDirectory() as work:
            r = subprocess.run([exe, f"-max_total_time={seconds}",
                                f"-max_len={max_len}", work, corpus],
                               capture_output=True, text=True)
        runs = [l for l in r.stderr.splitlines() if l.startswith("Done ")]
        if r.returncode == 0 and runs:
            results.record(f"fuzz.{name}", "PASS", runs[-1])
        else:
            results.record(f"fuzz.{name}", "FAIL",
                           f"exit {r.returncode}: {r.stderr[-2000:]}")


def reachable_by_others(path):
    """Can another uid (the clients run as uid 1000) reach path: is every
    directory from / to it open to others?"""
    p = os.path.abspath(path)
    while True:
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH:
            return False
        if p == "/":
            return True
        p = os.path.dirname(p)


def run_from_copy(build, only):
    """The suite, from a copy of the checkout and the build in a directory
    every uid can reach (/root and mktemp -d folders are 0700)."""
    root = os.path.dirname(HERE)
    tmp = tempfile.mkdtemp(prefix="nfsg-suite-")
    try:
        os.chmod(tmp, 0o755)
        copy = os.path.join(tmp, "nfsguard")
        shutil.copytree(root, copy, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "build"))
        shutil.copytree(build, os.path.join(copy, "build"), symlinks=True)
        subprocess.run(["chmod", "-R", "a+rX", copy], check=True)
        print(f"tests/run.py: {root} is closed to other users (a directory "
              f"on its way has no o+x): running the suite from a copy in "
              f"{tmp}", file=sys.stderr, flush=True)
        child = subprocess.Popen(
            [sys.executable, os.path.join(copy, "tests", "run.py"),
             "--build", os.path.join(copy, "build")] + only)
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The copy's suite cleans up its own fixtures on SIGTERM.
            child.send_signal(signal.SIGTERM)
            child.wait()
            return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("only", nargs="*", help="run cases whose name has this")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    os.environ["NFSG_BUILD"] = build
    if os.geteuid() != 0:
        print("tests/run.py: the suite runs against the real kernel: run it as root (sudo make test)",
              file=sys.stderr)
        return 2

    # SIGTERM unwinds like Ctrl-C, so every fixture cleans up.
    def interrupt(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)

    # What uid 1000 runs (nfsg-connect, tcp_client.py) must be reachable.
    if not (reachable_by_others(HERE) and reachable_by_others(build)):
        return run_from_copy(build, args.only)

    results = harness.Results()
    try:
        if not args.only or any("unit" in o for o in args.only):
            unit_tests(results, build)
        if not args.only or any("fuzz" in o for o in args.only):
            fuzz_smoke(results, build)
        for m in MODULES:
            __import__(m)
        harness.run_cases(results, harness.CASES, args.only)
    except KeyboardInterrupt:
        print("interrupted: cleaned up", file=sys.stderr)
    return results.summary()


if __name__ == "__main__":
    sys.exit(main())
