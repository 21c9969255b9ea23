# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""A small test runner: named cases, skips with reasons, one summary line.

Each case is a function registered with @case. It passes by returning,
fails by raising (AssertionError or anything else), and skips by raising
Skip with the reason. The run ends with 'N passed, N failed, N skipped'.
"""
import sys
import time
import traceback

CASES = []


class Skip(Exception):
    """The case cannot run here; the message says why."""


def case(fn):
    CASES.append(fn)
    return fn


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def record(self, name, outcome, detail=""):
        if outcome == "PASS":
            self.passed += 1
        elif outcome == "SKIP":
            self.skipped += 1
        else:
            self.failed += 1
            self.failures.append(name)
        line = f"{outcome} {name}"
        if detail:
            line += f": {detail}"
        print(line, flush=True)

    def summary(self):
        if self.failures:
            print("failed: " + ", ".join(self.failures))
        print(f"{self.passed} passed, {self.failed} failed, "
              f"{self.skipped} skipped", flush=True)
        return 1 if self.failed else 0


def run_cases(results, cases, only=None):
    for fn in cases:
        if isinstance(fn, Table):
            run_table(results, fn, only)
            continue
        name = f"{fn.__module__}.{fn.__name__}"
        if only and not any(o in name for o in only):
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Skip as e:
            results.record(name, "SKIP", str(e))
        except KeyboardInterrupt:
            results.record(name, "FAIL", "interrupted")
            raise
        except Exception as e:  # a failing case must not stop the run
            detail = f"{type(e).__name__}: {e}"
            if not isinstance(e, AssertionError):
                traceback.print_exc(file=sys.stdout)
            results.record(name, "FAIL", detail)
        else:
            results.record(name, "PASS", f"{time.monotonic() - t0:.1f}s")


class Table:
    """A table of rows sharing one setup (say, one agent on one cgroup).

    setup() is a context manager yielding an environment with finish().
    Each row's act(env) runs inside it and may return a check(env) that
    runs after env.finish() (when, say, the agent has printed all events).
    Rows are reported one by one.
    """

    def __init__(self, name, setup, rows):
        self.__module__ = setup.__module__
        self.__name__ = name
        self.setup = setup
        self.rows = rows


class Row:
    def __init__(self, name, act):
        self.name = name
        self.act = act


def table(name, setup, rows):
    CASES.append(Table(name, setup, rows))


def _outcome(fn, *args):
    """Run fn; return (outcome, detail, value)."""
    try:
        return "PASS", "", fn(*args)
    except Skip as e:
        return "SKIP", str(e), None
    except KeyboardInterrupt:
        raise
    except Exception as e:
        if not isinstance(e, AssertionError):
            traceback.print_exc(file=sys.stdout)
        return "FAIL", f"{type(e).__name__}: {e}", None


def run_table(results, t, only):
    prefix = f"{t.__module__}.{t.__name__}"
    rows = [r for r in t.rows
            if not only or any(o in f"{prefix}.{r.name}" for o in only)]
    if not rows:
        return
    done = set()
    try:
        with t.setup() as env:
            acted = [(r,) + _outcome(r.act, env) for r in rows]
            env.finish()
            for row, outcome, detail, later in acted:
                if outcome == "PASS" and later:
                    outcome, detail, _ = _outcome(later, env)
                results.record(f"{prefix}.{row.name}", outcome, detail)
                done.add(row.name)
    except KeyboardInterrupt:
        raise
    except Skip as e:
        for r in rows:
            if r.name not in done:
                results.record(f"{prefix}.{r.name}", "SKIP", str(e))
    except Exception as e:
        traceback.print_exc(file=sys.stdout)
        for r in rows:
            if r.name not in done:
                results.record(f"{prefix}.{r.name}", "FAIL",
                               f"table setup: {type(e).__name__}: {e}")
