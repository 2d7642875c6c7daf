"""What the nodes' placement check costs (PUT /admin/placement: every keyed request hashes its
key once per owner to answer 421 for keys that are not the node's): `httpkv-bench --cluster`
GET and PUT on a 3-node cluster, alternating rounds with the placement on (as cluster.sh sets
it) and lifted (DELETE /admin/placement on every node), in requests per server CPU-second.

    python3 bench/scripts/placement_cost.py [--rounds 6] [--seconds 2] [--keys 10000]

Pinned like tools/cluster/front_cost.py (nodes on CPU 0, the bench on CPU 1). Prints the median
and range of the per-round ratios on/off. Numbers only mean something on an idle machine.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "cluster"))
import front_cost  # noqa: E402
import owners  # noqa: E402
from pipeline import Pipeline  # noqa: E402


def lift(st):
    for n in st["nodes"]:
        c = Pipeline(n["addr"])
        (a,) = c.run([("DELETE", "/admin/placement", None, {})])
        c.close()
        assert a.status == 204, a.status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--keys", type=int, default=10000)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="httpkv-placement-cost.")
    st = front_cost.start_cluster(d)
    try:
        cluster = ["--cluster", os.path.join(d, "cluster.json")]
        front_cost.bench(cluster, "get=100", 0.2, a.keys, preload=True)
        pids = [n["pid"] for n in st["nodes"]]
        front_cost.pin(pids)
        ratios = {}
        for _ in range(a.rounds):
            for op, mix in (("GET", "get=100"), ("PUT", "put=100")):
                per_cpu = {}
                for state in ("on", "off"):
                    if state == "on":
                        owners.settle(st, owners.current(st))
                    else:
                        lift(st)
                    c0 = front_cost.cpu_seconds(pids)
                    res = front_cost.bench(cluster, mix, a.seconds, a.keys)
                    cpu = front_cost.cpu_seconds(pids) - c0
                    assert res["non_2xx"] == 0 and res["errors"] == 0, res
                    per_cpu[state] = res["requests"] / cpu
                ratios.setdefault(op, []).append(per_cpu["on"] / per_cpu["off"])
        for op, r in ratios.items():
            print(f"{op}: placement on / off, requests per server CPU-second: median "
                  f"{statistics.median(r):.3f} (range {min(r):.3f}-{max(r):.3f}, {len(r)} rounds)")
    finally:
        front_cost.stop(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
