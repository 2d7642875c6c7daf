"""What the HAProxy front costs, and what cluster-aware clients save: GET and PUT straight to
one node (a single server beside the cluster: its nodes refuse keys they do not own), through a
bare HAProxy hop (one thread, no rules, that node behind it), through the
cluster's front (its routing rules, 3 nodes) and with `httpkv-bench --cluster` (no hop), in
requests per second and per server CPU-second (utime+stime of every node the path uses, plus
HAProxy's master and workers). Then keys moved per second by `cluster.sh add` (3 -> 4 nodes)
and `remove` (4 -> 3) over --move-keys keys written straight to their owners.

    python3 tools/cluster/front_cost.py [--rounds 5] [--seconds 2] [--keys 10000]
                                        [--move-keys 200000] [--move-runs 1] [--out FILE.md]
                                        [--no-move | --move-only]

Starts its own clusters in temp dirs (3 nodes, 1 reactor thread each) and stops them. The
servers and HAProxy are pinned to CPU 0 and httpkv-bench to CPU 1 (taskset) when there are two
or more CPUs. Rounds alternate the paths (direct, bare, front, cluster, direct, ...) so a drift
in machine load hits all; the report gives the median of the per-round ratios to direct and
their range. Numbers only mean something on an otherwise idle machine.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

import processes
from pipeline import Pipeline

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(REPO, "tools", "cluster.sh")
BIN = os.environ.get("HTTPKV_BIN_DIR", os.path.join(REPO, "build", "bin"))
TICK = os.sysconf("SC_CLK_TCK")
PINNED = (os.cpu_count() or 1) >= 2
PATHS = ("direct", "bare", "front", "cluster")

BARE_CFG = """global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
frontend bare
    bind {front}
    default_backend one
backend one
    server n1 {node}
"""


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / TICK


def pin(pids):
    if PINNED:
        for pid in pids:
            subprocess.run(["taskset", "-a", "-p", "-c", "0", str(pid)], capture_output=True)


def bench(target_args, mix, seconds, keys, preload=False):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = (["taskset", "-c", "1"] if PINNED else []) + [
            os.path.join(BIN, "httpkv-bench"), *target_args, "--duration", f"{seconds}s",
            "--mix", mix, "--keys", str(keys), "--connections", "16", "--no-progress",
            "--json", out.name, "--zipf", "0"]
        if not preload:
            args.append("--no-preload")
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"httpkv-bench {' '.join(target_args)}: {p.stderr.strip()}")
        return json.load(open(out.name))


def start_cluster(d):
    subprocess.run([CLUSTER, "start", d, "--nodes", "3"], check=True, capture_output=True)
    return json.load(open(os.path.join(d, "cluster.json")))


def stop(d):
    if subprocess.run([CLUSTER, "stop", d], capture_output=True).returncode == 0:
        shutil.rmtree(d, ignore_errors=True)


def start_bare(d, node_addr):
    addr = f"127.0.0.1:{processes.free_port('127.0.0.1')}"
    cfg = os.path.join(d, "bare.cfg")
    with open(cfg, "w") as f:
        f.write(BARE_CFG.format(front=addr, node=node_addr))
    pid = processes.spawn(["haproxy", "-f", cfg], os.path.join(d, "bare.log"))
    processes.wait_until(lambda: processes.http_get(addr, "/healthz")[0] == 200, 10,
                         "the bare HAProxy hop")
    return pid, addr


def has_cluster_flag():
    p = subprocess.run([os.path.join(BIN, "httpkv-bench"), "--help"], capture_output=True, text=True)
    return "--cluster" in p.stdout


def start_single(d):
    """One httpkv-server outside the cluster (the cluster's flags: one thread, --fsync
    everysec), for `direct` and the bare hop: a cluster node answers 421 for the keys it does not
    own (its placement), a single node serves them all."""
    return processes.start_node(os.path.join(BIN, "httpkv-server"), "127.0.0.1:0",
                                os.path.join(d, "single", "data"), os.path.join(d, "single.log"),
                                ["--threads", "1", "--fsync", "everysec"])


def measure(a, d, st):
    nodes = [n["pid"] for n in st["nodes"]]
    single_pid, single_addr = start_single(d)
    bench(["--target", single_addr], "get=100", 0.2, a.keys, preload=True)
    if has_cluster_flag():  # each key on its owner
        bench(["--cluster", os.path.join(d, "cluster.json")], "get=100", 0.2, a.keys, preload=True)
    else:
        bench(["--target", st["front"]], "get=100", 0.2, a.keys, preload=True)
    bare_pid, bare_addr = start_bare(d, single_addr)
    front = [st["haproxy_pid"]] + processes.children(st["haproxy_pid"])
    pin(nodes + front + [bare_pid, single_pid])
    where = {"direct": (["--target", single_addr], [single_pid]),
             "bare": (["--target", bare_addr], [single_pid, bare_pid]),
             "front": (["--target", st["front"]], nodes + front),
             "cluster": (["--cluster", os.path.join(d, "cluster.json")], nodes)}
    paths = [p for p in PATHS if p != "cluster" or has_cluster_flag()]
    rows = {}
    try:
        for _ in range(a.rounds):
            for op, mix in (("GET", "get=100"), ("PUT", "put=100")):
                for path in paths:
                    args, pids = where[path]
                    c0 = cpu_seconds(pids)
                    res = bench(args, mix, a.seconds, a.keys)
                    cpu = cpu_seconds(pids) - c0
                    ok = res["requests"] - res["errors"] - res["non_2xx"]
                    rows.setdefault((op, path), []).append(
                        (res["rps"], ok / cpu if cpu else 0, res["latency_us"]["p50"]))
    finally:
        processes.stop(bare_pid, "haproxy")
        processes.stop(single_pid, "httpkv-server")
    return rows, paths


def report(rows, paths, rounds):
    med = statistics.median
    out = [f"| op | path | req/s (median) | req per server CPU-s (median) | per CPU-s vs direct: "
           f"median (min-max of {rounds} rounds) | vs bare hop | p50 us |",
           "|---|---|---|---|---|---|---|"]
    for op in ("GET", "PUT"):
        base, bare = rows[(op, "direct")], rows[(op, "bare")]
        for path in paths:
            r = rows[(op, path)]
            ratio = [x[1] / b[1] for x, b in zip(r, base) if b[1]]
            vs_bare = [x[1] / b[1] for x, b in zip(r, bare) if b[1]]
            out.append(f"| {op} | {path} | {med(x[0] for x in r):.0f} | {med(x[1] for x in r):.0f} "
                       f"| {med(ratio):.2f}x ({min(ratio):.2f}-{max(ratio):.2f}) "
                       f"| {med(vs_bare):.2f}x | {med(x[2] for x in r):.0f} |")
    return "\n".join(out)


def preload(st, count):
    """count keys written straight to their owners (asked of the front), pipelined."""
    keys = [b"move-%08d" % i for i in range(count)]
    front, owners = Pipeline(st["front"]), []
    for i in range(0, count, 50000):
        (ans,) = front.run([("POST", "/_cluster/owners", b"".join(k + b"\n" for k in
                                                               keys[i:i + 50000]), {})])
        owners += ans.body.decode().split("\n")[:-1]
    for node in st["nodes"]:
        c = Pipeline(node["addr"])
        mine = [c.request("PUT", "/kv/" + k.decode(), b"value of " + k)
                for k, o in zip(keys, owners) if o == node["name"]]
        assert set(c.statuses(mine)) <= {201, 204}


MOVED = re.compile(r"moved (\d+) of (\d+) keys in ([\d.]+)s \(\d+ keys/s\); its keys answered "
                   r"503 for ([\d.]+)s \(copy ([\d.]+)s")


def move_cost(count):
    """add (3 -> 4 nodes) then remove n2 (4 -> 3) on count preloaded keys; report lines."""
    d, lines = tempfile.mkdtemp(prefix="httpkv-move-cost."), []
    subprocess.run([CLUSTER, "start", d, "--nodes", "3"], check=True, capture_output=True)
    try:
        preload(json.load(open(os.path.join(d, "cluster.json"))), count)
        for verb, args in (("add", []), ("remove", ["n2"])):
            out = subprocess.run([CLUSTER, verb, d] + args, check=True, capture_output=True,
                                 text=True).stdout
            m = MOVED.search(out)
            if m:
                moved, took, frozen, copy = int(m.group(1)), *map(float, m.group(3, 4, 5))
                lines.append(f"- {verb} ({count} keys stored): {moved} keys moved, "
                             f"{moved / took:.0f} keys/s overall, {moved / copy:.0f} keys/s in "
                             f"the bulk copy, 503 for {frozen:.2f} s")
            else:
                lines.append(f"- {verb}: {out.strip()}")
    finally:
        stop(d)
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--move-keys", type=int, default=200000)
    ap.add_argument("--move-runs", type=int, default=1)
    ap.add_argument("--out", help="also write the report (markdown) to this file")
    ap.add_argument("--no-move", action="store_true", help="skip the add/remove measurement")
    ap.add_argument("--move-only", action="store_true", help="skip the hop's cost")
    a = ap.parse_args()
    text = ""
    if not a.move_only:
        d = tempfile.mkdtemp(prefix="httpkv-front-cost.")
        try:
            rows, paths = measure(a, d, start_cluster(d))
        finally:
            stop(d)
        text = report(rows, paths, a.rounds) + "\n\n"
    if not a.no_move:
        text += "\n".join(line for _ in range(a.move_runs) for line in move_cost(a.move_keys))
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
