# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The Debian package, end to end, as root: 'make test-package' runs it.

    /usr/bin/python3 tests/package.py [--keep]

Builds the package with dpkg-buildpackage -us -uc -b from a copy of the
checkout, checks it with lintian (no error, no warning), installs it with
dpkg -i, checks its files, its conffile, that its unit is enabled (and
running, where systemd is PID 1) and passes systemd-analyze verify, and
that bash completion works from where the package put it. With an agent
holding pins, as the service would, it purges the package and checks
that nothing is left: no file, no configuration, no pin, no agent.
Ends with 'N passed, N failed, N skipped', like the suite.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# Run as root in a user's checkout: leave no root-owned __pycache__ there.
sys.dont_write_bytecode = True

from harness import Results, Skip, check, check_eq  # noqa: E402

PKG = "nfsguard"
PINS = "/sys/fs/bpf/nfsguard"
FILES = [
    "/usr/sbin/nfsguard",
    "/lib/systemd/system/nfsguard.service",
    "/etc/nfsguard/nfsguard.conf",
    "/usr/share/man/man8/nfsguard.8.gz",
    "/usr/share/bash-completion/completions/nfsguard",
    "/usr/share/doc/nfsguard/copyright",
]
ENABLED = "/etc/systemd/system/multi-user.target.wants/nfsguard.service"


def sh(*argv, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {r.returncode}: "
                             f"{(r.stdout + r.stderr)[-3000:]}")
    return r


def installed():
    r = sh("dpkg-query", "-W", "-f=${Status}", PKG, check=False)
    return "install ok installed" in r.stdout


def systemd_runs():
    with open("/proc/1/comm") as f:
        return f.read().strip() == "systemd"


class Package:
    def __init__(self, work):
        self.work = work
        self.deb = None
        self.changes = None
        self.agent = None
        self.cgroup = None

    def build(self):
        src = os.path.join(self.work, "nfsguard")
        shutil.copytree(ROOT, src, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "build"))
        sh("dpkg-buildpackage", "-us", "-uc", "-b", cwd=src, timeout=900)
        debs = [d for d in glob.glob(os.path.join(self.work, "nfsguard_*.deb"))]
        check_eq(len(debs), 1, f"packages built: {debs}")
        self.deb = debs[0]
        self.changes = glob.glob(os.path.join(self.work, "*.changes"))[0]

    def lintian(self):
        r = sh("lintian", "--fail-on", "error,warning", "--no-tag-display-limit",
               self.changes, check=False, timeout=600)
        check_eq(r.returncode, 0, f"lintian: {r.stdout}{r.stderr}")
        tags = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:")]
        check_eq(tags, [], "lintian errors and warnings")

    def install(self):
        sh("dpkg", "-i", self.deb, timeout=300)
        check(installed(), "dpkg says it is not installed")

    def files(self):
        for f in FILES:
            check(os.path.isfile(f), f"{f} missing")
        conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", PKG).stdout
        check("/etc/nfsguard/nfsguard.conf" in conffiles,
              f"the configuration is no conffile: {conffiles!r}")
        r = sh("/usr/sbin/nfsguard", "--version")
        check(r.stdout.startswith("nfsguard "), r.stdout)
        r = sh("/usr/sbin/nfsguard", "check")
        check("/etc/nfsguard/nfsguard.conf: valid, 1 policy" in r.stdout,
              r.stdout)
        with open("/etc/nfsguard/nfsguard.conf") as f:
            check("README" not in f.read(),
                  "the installed configuration points to a README")

    def unit(self):
        r = sh("systemd-analyze", "verify",
               "/lib/systemd/system/nfsguard.service", check=False)
        check_eq(r.returncode, 0, f"systemd-analyze verify: {r.stderr}")
        check(os.path.islink(ENABLED), f"the unit is not enabled: no {ENABLED}")

    def started(self):
        if not systemd_runs():
            raise Skip("systemd is not PID 1 here: the unit was enabled, "
                       "not started")
        r = sh("systemctl", "is-active", "nfsguard", check=False)
        check_eq(r.stdout.strip(), "active", "the service after install")

    def completion(self):
        script = (
            "source /usr/share/bash-completion/bash_completion; "
            "source /usr/share/bash-completion/completions/nfsguard; "
            'COMP_WORDS=(nfsguard ch); COMP_CWORD=1; COMP_LINE="nfsguard ch"; '
            "COMP_POINT=11; _nfsguard nfsguard ch nfsguard; "
            'echo "${COMPREPLY[*]}"')
        r = sh("bash", "-c", script)
        check_eq(r.stdout.strip(), "check", "completion of 'nfsguard ch'")

    def hold_pins(self):
        """An agent holding pins in the default directory, as the service
        would, on a cgroup of its own (never the cgroup2 root)."""
        if os.path.exists(PINS):
            return
        mount = [l.split()[1] for l in open("/proc/mounts")
                 if l.split()[2] == "cgroup2"][0]
        self.cgroup = os.path.join(mount, f"nfsg-pkg-{os.getpid()}")
        os.mkdir(self.cgroup)
        self.agent = subprocess.Popen(
            ["/usr/sbin/nfsguard", "run", "--persist", "--cgroup",
             "/" + os.path.relpath(self.cgroup, mount)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while time.time() < deadline and not os.path.exists(
                os.path.join(PINS, "link_connect4")):
            time.sleep(0.1)
        check(os.path.exists(os.path.join(PINS, "link_connect4")),
              "the agent did not pin its links")

    def purge(self):
        self.hold_pins()
        sh("apt-get", "purge", "-y", "-q", PKG, timeout=300,
           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        check(not installed(), "still installed after purge")
        left = [f for f in FILES + [ENABLED, "/etc/nfsguard"]
                if os.path.lexists(f)]
        check_eq(left, [], "left after purge")
        check(not os.path.exists(PINS), f"{PINS} left after purge")
        if self.agent:
            try:
                self.agent.wait(10)
            except subprocess.TimeoutExpired:
                raise AssertionError("the pinning agent still runs")

    def cleanup(self):
        if installed():
            sh("apt-get", "purge", "-y", "-q", PKG, check=False)
        if self.agent and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()
        if self.agent:
            self.agent.stderr.close()
        if self.cgroup:
            for _ in range(50):
                try:
                    os.rmdir(self.cgroup)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true",
                    help="keep the build directory (its path is printed)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("tests/package.py: installs and purges a package: run it as "
              "root (make test-package)", file=sys.stderr)
        return 2
    if installed() or os.path.exists(PINS):
        print(f"tests/package.py: {PKG} is installed here, or {PINS} "
              "exists: the test would remove it; purge it first",
              file=sys.stderr)
        return 2
    results = Results()
    work = tempfile.mkdtemp(prefix="nfsg-package-")
    pkg = Package(work)
    steps = [("build", pkg.build), ("lintian_clean", pkg.lintian),
             ("install", pkg.install), ("files_and_conffile", pkg.files),
             ("unit_enabled_and_verified", pkg.unit),
             ("unit_started", pkg.started),
             ("bash_completion", pkg.completion),
             ("purge_leaves_nothing", pkg.purge)]
    try:
        for name, fn in steps:
            t0 = time.monotonic()
            try:
                fn()
            except Skip as e:
                results.record(f"package.{name}", "SKIP", str(e))
            except Exception as e:  # later steps need this one
                results.record(f"package.{name}", "FAIL",
                               f"{type(e).__name__}: {e}")
                if name in ("build", "install"):
                    break
            else:
                results.record(f"package.{name}", "PASS",
                               f"{time.monotonic() - t0:.1f}s")
    except KeyboardInterrupt:
        print("interrupted: cleaned up", file=sys.stderr)
    finally:
        pkg.cleanup()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results.summary()


if __name__ == "__main__":
    sys.exit(main())
