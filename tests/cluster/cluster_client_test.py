#!/usr/bin/env python3
"""ctest label `cluster`: the cluster-aware clients (README "Cluster-aware clients"):
`httpkv --cluster FILE …` and `httpkv-bench --cluster FILE`.

    cluster_client_test.py CASE   (owners | routing | watch | bench | bench_replicas)

owners: `httpkv --cluster FILE owner -` places 100,000 keys exactly as the front's
POST /_cluster/owners. routing: get/put/delete/create/update land on the owning node (asked
directly); keyless commands go through the front. watch: the merged feed has events of two
nodes and resumes from its merged id. bench: httpkv-bench --cluster on 3 nodes; its preload
put every key on its owner. bench_replicas (--replicas 1, needs etcd): bench --cluster, then a
primary is killed during a run and the bench follows the new primary. Exit 0 pass, 1 fail,
77 skipped (no haproxy, or no etcd for bench_replicas)."""
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time

from cluster_lib import Cluster, enc, expect, fail
import placement_ref

NAMES3 = ["n1", "n2", "n3"]


def cli(cluster, *args, stdin=None, check=True):
    p = subprocess.run([os.path.join(cluster.bin_dir, "httpkv"), "--cluster",
                        os.path.join(cluster.dir, "cluster.json"), *args],
                       input=stdin, capture_output=True, timeout=60)
    if check and p.returncode != 0:
        fail(f"httpkv --cluster {' '.join(map(str, args))} exited {p.returncode}: {p.stderr!r}")
    return p


def front_owners(cluster, keys):
    out = []
    for i in range(0, len(keys), 5000):  # one POST per 5,000 keys
        status, body, _ = cluster.front().request(
            "POST", "/_cluster/owners", body=b"".join(k + b"\n" for k in keys[i:i + 5000]))
        expect(status == 200, f"/_cluster/owners: {status}")
        out += body.decode().split("\n")[:-1]
    return out


def case_owners(cluster):
    rng = random.Random(20)
    keys = [f"key-{i}".encode() for i in range(50000)]
    # Any bytes but the line end (what the front's owners service splits on).
    byte_values = [b for b in range(1, 256) if b != 0x0A]
    keys += [bytes(rng.choice(byte_values) for _ in range(rng.randint(1, 40))) for _ in range(50000)]
    p = cli(cluster, "owner", "-", stdin=b"".join(k + b"\n" for k in keys))
    ours = p.stdout.decode().split("\n")[:-1]
    theirs = front_owners(cluster, keys)
    expect(len(ours) == len(keys) == len(theirs), f"{len(ours)} owners for {len(keys)} keys")
    diff = [(k, a, b) for k, a, b in zip(keys, ours, theirs) if a != b]
    expect(not diff, f"{len(diff)} keys placed differently from the front, e.g. {diff[:3]}")
    expect(set(ours) == set(NAMES3), f"owners seen: {set(ours)}")
    p = cli(cluster, "owner", "key-1", "key-2")
    expect(p.stdout.decode().split() == theirs[1:3], "owner KEY… as arguments")
    print(f"owner: {len(keys)} keys placed as the front places them")


def on_nodes(cluster, key):
    """Names of the nodes that hold key (asked directly)."""
    return [n for n in NAMES3 if cluster.node(n).request("GET", "/kv/" + enc(key))[0] == 200]


def case_routing(cluster):
    keys = [f"route-{i}".encode() for i in range(20)] + ["é €/?#%".encode(), b"a b"]
    owners = front_owners(cluster, keys)
    expect(len(set(owners)) == 3, f"the keys should cover every node: {owners}")
    for k, owner in zip(keys, owners):
        cli(cluster, "put", k, b"v-" + k)
        expect(on_nodes(cluster, k) == [owner], f"put {k!r}: on {on_nodes(cluster, k)}, owner {owner}")
        expect(cli(cluster, "get", k).stdout == b"v-" + k, f"get {k!r}")
        cli(cluster, "delete", k)
        expect(on_nodes(cluster, k) == [], f"delete {k!r}: still on {on_nodes(cluster, k)}")
        cli(cluster, "create", k + b":c")
        expect(on_nodes(cluster, k) == [owner], f"create {k!r}: on {on_nodes(cluster, k)}")
        cli(cluster, "update", k + b":u")
        status, body, _ = cluster.node(owner).request("GET", "/kv/" + enc(k))
        expect(status == 200 and body == b"u", f"update {k!r} on {owner}: {status} {body!r}")
    listing = cli(cluster, "list").stdout  # keyless: through the front, every node's pairs
    expect(all(k + b":u\n" in listing for k in keys), "list --cluster misses pairs")
    expect(cli(cluster, "get", b"route-absent", check=False).returncode == 1, "get of a missing key")


class Watch:
    """`httpkv --cluster FILE watch …` in the background; events read with a deadline."""

    def __init__(self, cluster, *args):
        self.p = subprocess.Popen([os.path.join(cluster.bin_dir, "httpkv"), "--cluster",
                                   os.path.join(cluster.dir, "cluster.json"), "watch", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def event(self, timeout=10.0):
        """The next event as a dict of its fields."""
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                fail(f"no watch event within {timeout} s (stderr: {self.stop()!r})")
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                fail(f"watch ended (exit {self.p.wait()}, stderr: {self.p.stderr.read()!r})")
            self.buf += chunk
        block, self.buf = self.buf.split(b"\n\n", 1)
        return dict(line.decode().split(": ", 1) for line in block.split(b"\n"))

    def stop(self):
        self.p.kill()
        self.p.wait()
        return self.p.stderr.read()


def case_watch(cluster):
    keys = [f"w-{i}".encode() for i in range(40)]
    owners = dict(zip(keys, front_owners(cluster, keys)))
    mine = [next(k for k in keys if owners[k] == n) for n in ("n1", "n2")]
    w = Watch(cluster, "--since", "0", "--prefix", "w-")
    try:
        for k in mine:
            cli(cluster, "put", k, b"x")
        seen, last = set(), None
        while seen != set(mine):
            ev = w.event()
            expect(ev.get("event") == "put", f"event {ev}")
            seen.add(json.loads(ev["data"])["key"].encode())
            last = ev["id"]
        cursor = dict(item.split("=") for item in last.split(","))
        expect({"n1", "n2"} <= set(cursor), f"merged id {last!r} should name n1 and n2")
    finally:
        w.stop()
    # Resume from the merged id: only what came after it.
    w = Watch(cluster, "--since", last, "--prefix", "w-")
    try:
        cli(cluster, "put", mine[1], b"again")
        ev = w.event()
        expect(json.loads(ev["data"])["key"].encode() == mine[1], f"resumed watch: {ev}")
        expect(ev["id"].startswith("n1=") and "n2=" in ev["id"], f"resumed id {ev['id']!r}")
    finally:
        w.stop()
    bad = cli(cluster, "watch", "--since", "n9=1", check=False)
    expect(bad.returncode == 2, f"--since naming no owner: exit {bad.returncode}")


def bench(cluster, *args, **popen):
    cmd = [os.path.join(cluster.bin_dir, "httpkv-bench"), "--cluster",
           os.path.join(cluster.dir, "cluster.json"), "--no-progress", *args]
    if popen:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, f"httpkv-bench --cluster exited {p.returncode}: {p.stderr}")
    return p


def check_report(path, what):
    with open(path) as f:
        r = json.load(f)
    total, errors, non_2xx = r["requests"], r["errors"], r["non_2xx"]
    expect(total > 0 and errors == 0 and non_2xx == 0,
           f"{what}: {total} requests, {errors} errors, {non_2xx} non-2xx")
    return r


def case_bench(cluster):
    out = os.path.join(cluster.dir, "bench.json")
    p = bench(cluster, "-d", "1s", "-c", "6", "-t", "2", "--keys", "3000", "--mix",
              "get=80,put=20", "--json", out)
    print(p.stdout.strip())
    r = check_report(out, "bench --cluster")
    expect(r["cluster"]["owners"] == 3, f"report: {r['cluster']}")
    # The preload PUT key-0 .. key-2999 each straight to its owner.
    for name in NAMES3:
        held = set(cluster.node_keys(name))
        want = {f"key-{i}".encode() for i in range(3000)
                if placement_ref.owner(NAMES3, f"key-{i}".encode()) == name}
        expect(held == want, f"{name} holds {len(held)} keys, owns {len(want)}")


def seq_of(cluster, name):
    status, _, resp = cluster.node(name).request("GET", "/?limit=1")
    return int(resp.getheader("X-Seq") or 0) if status == 200 else None


def failover_under_bench(cluster, shard, fault, out):
    """Runs httpkv-bench --cluster (writes only) while fault(old primary) makes shard fail over;
    returns (new primary, the bench's JSON report) once the bench's writes reach the new one."""
    from replication_lib import wait_for
    old = cluster.wait_primary(shard)
    at = seq_of(cluster, old) or 0
    p = bench(cluster, "-d", "60s", "-c", "4", "-t", "2", "--keys", "2000", "--mix", "put=100",
              "--json", out, text=True)
    try:
        wait_for(lambda: (seq_of(cluster, old) or 0) > at, 10, f"the bench writing to {old}")
        new = fault(old)
        at = seq_of(cluster, new)
        wait_for(lambda: (seq_of(cluster, new) or 0) > at + 100, 15,
                 f"the bench's writes to reach the new primary {new} of {shard}")
        p.send_signal(signal.SIGINT)  # ends the measured phase; the report follows
        stdout, stderr = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    expect(p.returncode == 0, f"bench over the failover exited {p.returncode}: {stderr}")
    print(stdout.strip())
    with open(out) as f:
        return new, json.load(f)


def case_bench_replicas(cluster):
    keys = [f"key-{i}".encode() for i in range(2000)]  # placed over shards: s1, s2
    ours = cli(cluster, "owner", "-", stdin=b"".join(k + b"\n" for k in keys)).stdout.split()
    expect([o.decode() for o in ours] == front_owners(cluster, keys), "owners of shards")
    out = os.path.join(cluster.dir, "bench.json")
    bench(cluster, "-d", "1s", "-c", "4", "-t", "2", "--keys", "2000", "--json", out)
    check_report(out, "bench --cluster with replicas")

    def kill(old):  # connections refused: the bench looks the primary up again
        cluster.run("kill", old)
        return cluster.wait_primary("s1", exclude=(old,), timeout=20)

    new, _ = failover_under_bench(cluster, "s1", kill, out)
    # The CLI finds the new primary too.
    key = next(f"after-{i}".encode() for i in range(100)
               if cluster.shard_of(f"after-{i}".encode()) == "s1")
    cli(cluster, "put", key, b"v")
    status, _, _ = cluster.node(new).request("GET", "/kv/" + enc(key))
    expect(status == 200, f"put after the failover is not on the new primary {new}: {status}")

    def pause(old):  # back as a replica, the old primary answers 421 (X-Primary) or 503
        cluster.sigstop(old)
        try:
            return cluster.wait_primary("s2", exclude=(old,), timeout=20)
        finally:
            cluster.sigcont(old)

    _, report = failover_under_bench(cluster, "s2", pause, out)
    expect(report["cluster"]["stale_retries"] > 0,
           f"no 421/503 answer was sent again: {report['cluster']}")


CASES = {"owners": case_owners, "routing": case_routing, "watch": case_watch,
         "bench": case_bench, "bench_replicas": case_bench_replicas}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: cluster_client_test.py {{{'|'.join(CASES)}}}", file=sys.stderr)
        return 2
    tools = [("haproxy", "haproxy")] + ([("etcd", "etcd-server")]
                                        if sys.argv[1] == "bench_replicas" else [])
    for tool, package in tools:
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found (Debian package {package})")
            return 77
    # ctest's timeout sends SIGTERM: unwind, so that the cluster is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    if sys.argv[1] == "bench_replicas":
        from replication_lib import ReplicatedCluster
        with ReplicatedCluster(shards=2, replicas=1, sync=0) as cluster:
            case_bench_replicas(cluster)
    else:
        with Cluster() as cluster:
            CASES[sys.argv[1]](cluster)
    print(f"PASS: {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
