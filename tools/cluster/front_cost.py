"""What the HAProxy hop costs: GET and PUT straight to one node vs through the front, in
requests per second and per server CPU-second (the node's utime+stime; through the front,
HAProxy's master and workers plus every node), and keys moved per second by `add` (3 -> 4
nodes) and `remove` (4 -> 3) over --move-keys keys written straight to their nodes.

    python3 tools/cluster/front_cost.py [--rounds 3] [--seconds 2] [--keys 10000]
                                        [--move-keys 200000] [--move-runs 1] [--move-only]

Starts its own clusters in temp dirs (3 nodes, 1 reactor thread each) and stops them. Rounds
alternate direct/front so a drift in machine load hits both. Numbers only mean something on
an otherwise idle machine.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import processes
from pipeline import Pipeline

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(REPO, "tools", "cluster.sh")
BIN = os.environ.get("HTTPKV_BIN_DIR", os.path.join(REPO, "build", "bin"))
TICK = os.sysconf("SC_CLK_TCK")


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


def bench(target, mix, seconds, keys, preload=False):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = [os.path.join(BIN, "httpkv-bench"), "--target", target, "--duration", f"{seconds}s",
                "--mix", mix, "--keys", str(keys), "--connections", "16", "--no-progress",
                "--json", out.name, "--zipf", "0"]
        if not preload:
            args.append("--no-preload")
        subprocess.run(args, check=True, capture_output=True)
        return json.load(open(out.name))


def stop(d):
    if subprocess.run([CLUSTER, "stop", d], capture_output=True).returncode == 0:
        shutil.rmtree(d, ignore_errors=True)


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
    """add (3 -> 4 nodes) then remove n2 (4 -> 3) on count preloaded keys."""
    d = tempfile.mkdtemp(prefix="httpkv-move-cost.")
    subprocess.run([CLUSTER, "start", d, "--nodes", "3"], check=True, capture_output=True)
    try:
        preload(json.load(open(os.path.join(d, "cluster.json"))), count)
        for verb, args in (("add", []), ("remove", ["n2"])):
            out = subprocess.run([CLUSTER, verb, d] + args, check=True, capture_output=True,
                                 text=True).stdout
            print(out.strip())
            m = MOVED.search(out)
            if m:
                moved, took, frozen, copy = int(m.group(1)), *map(float, m.group(3, 4, 5))
                print(f"{verb}: {moved} keys, {moved / took:.0f} keys/s overall, "
                      f"{moved / copy:.0f} keys/s in the bulk copy, 503 for {frozen:.2f}s")
    finally:
        stop(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--move-keys", type=int, default=200000)
    ap.add_argument("--move-runs", type=int, default=1)
    ap.add_argument("--move-only", action="store_true", help="skip the hop's cost")
    a = ap.parse_args()
    if a.move_only:
        for run in range(a.move_runs):
            move_cost(a.move_keys)
        return 0
    d = tempfile.mkdtemp(prefix="httpkv-front-cost.")
    subprocess.run([CLUSTER, "start", d, "--nodes", "3"], check=True, capture_output=True)
    try:
        st = json.load(open(os.path.join(d, "cluster.json")))
        n1 = st["nodes"][0]
        nodes = [n["pid"] for n in st["nodes"]]
        bench(st["front"], "get=100", 0.2, a.keys, preload=True)  # every key once, via the front
        bench(n1["addr"], "get=100", 0.2, a.keys, preload=True)  # and all of them on n1 too
        results = {}
        for r in range(a.rounds):
            for op, mix in (("GET", "get=100"), ("PUT", "put=100")):
                for where in ("direct", "front"):
                    if where == "direct":
                        target, pids = n1["addr"], [n1["pid"]]
                    else:
                        target = st["front"]
                        pids = nodes + [st["haproxy_pid"]] + processes.children(st["haproxy_pid"])
                    c0 = cpu_seconds(pids)
                    res = bench(target, mix, a.seconds, a.keys)
                    cpu = cpu_seconds(pids) - c0
                    ok = res["requests"] - res["errors"] - res["non_2xx"]
                    results.setdefault((op, where), []).append((res["rps"], ok / cpu if cpu else 0,
                                                                res["latency_us"]["p50"]))
        print(f"{'':8}{'where':8}{'req/s (rounds)':>34}{'req per server CPU-s':>34}{'p50 us':>10}")
        for (op, where), rows in results.items():
            rps = " ".join(f"{x[0]:8.0f}" for x in rows)
            per = " ".join(f"{x[1]:8.0f}" for x in rows)
            print(f"{op:8}{where:8}{rps:>34}{per:>34}{sorted(x[2] for x in rows)[len(rows)//2]:10.0f}")
    finally:
        stop(d)
    for run in range(a.move_runs):
        move_cost(a.move_keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
