# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The Kubernetes example (deploy/kubernetes/): it parses as YAML and has
what the agent needs on a node, the unit's capabilities exactly, and a
configuration that 'nfsguard check' accepts."""
import os
import re
import subprocess
import tempfile

import yaml

from fixtures import nfsguard
from harness import case, check, check_eq

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EXAMPLE = os.path.join(ROOT, "deploy", "kubernetes", "nfsguard.yaml")


def docs():
    with open(EXAMPLE) as f:
        return {d["kind"]: d for d in yaml.safe_load_all(f) if d}


def unit_caps():
    with open(os.path.join(ROOT, "user", "nfsguard.service.in")) as f:
        line = re.search(r"^CapabilityBoundingSet=(.*)$", f.read(), re.M)
    return sorted(c.removeprefix("CAP_") for c in line.group(1).split())


@case
def daemonset_example_has_what_a_node_agent_needs():
    d = docs()
    check_eq(sorted(d), ["ConfigMap", "DaemonSet", "Namespace"], "kinds")
    spec = d["DaemonSet"]["spec"]["template"]["spec"]
    check_eq(spec.get("hostPID"), True, "hostPID")
    (c,) = spec["containers"]
    sc = c["securityContext"]
    check_eq(sc["capabilities"]["drop"], ["ALL"], "dropped capabilities")
    check_eq(sorted(sc["capabilities"]["add"]), unit_caps(),
             "the unit's capabilities")
    check(not sc.get("privileged"), "a privileged container")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    host = {v["name"]: v.get("hostPath", {}).get("path")
            for v in spec["volumes"]}
    for path in ("/sys/fs/cgroup", "/sys/fs/bpf"):
        names = [n for n, p in host.items() if p == path]
        check(names and mounts.get(names[0]) == path,
              f"{path} from the node at {path}: {host} {mounts}")
    cm = [v for v in spec["volumes"] if "configMap" in v]
    check(cm and mounts.get(cm[0]["name"]) == "/etc/nfsguard",
          f"the ConfigMap at /etc/nfsguard: {spec['volumes']}")
    check_eq(cm[0]["configMap"]["name"], d["ConfigMap"]["metadata"]["name"],
             "the ConfigMap's name")
    check("--persist" in c["args"], f"--persist in {c['args']}")
    ports = [p["containerPort"] for p in c["ports"]]
    metrics = c["args"][c["args"].index("--metrics") + 1]
    check(metrics.endswith(":9469") and ports == [9469],
          f"metrics on 9469: {metrics}, {ports}")


@case
def daemonset_example_configuration_is_valid():
    conf = docs()["ConfigMap"]["data"]["nfsguard.conf"]
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(conf)
        f.flush()
        r = subprocess.run([nfsguard(), "check", f.name], capture_output=True,
                           text=True, timeout=30)
    check_eq(r.returncode, 0, f"nfsguard check: {r.stderr}")
    check("valid, 2 policies" in r.stdout, r.stdout)
