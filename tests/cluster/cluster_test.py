#!/usr/bin/env python3
"""ctest label `cluster`: tools/cluster.sh, HAProxy and the Lua router end to end.

    cluster_test.py CASE     (placement | listing | scenario | kill | add | move_add | remove |
                              stop | auth)

Each case runs its own cluster in a temp dir and stops it even on failure. Exit 0 pass,
1 fail, 77 skipped (no haproxy)."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys

from cluster_lib import REPO, Cluster, enc, expect
import placement_ref

sys.path.insert(0, os.path.join(REPO, "tools", "cluster"))
import processes  # noqa: E402

NAMES3 = ["n1", "n2", "n3"]


def random_key(rng, i):
    """Keys with bytes a path must percent-encode: space, %, /, ?, #, ':' and UTF-8."""
    alphabet = "abcXYZ019 %/?#:+~é€"
    return (f"k{i}-" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))).encode()


def put(c, key, value):
    status, _, _ = c.request("PUT", "/kv/" + enc(key), body=value)
    return status


def owners_of(cluster, keys, names=None):
    q = "/_cluster/owners" + (f"?nodes={','.join(names)}" if names else "")
    status, body, _ = cluster.front().request("POST", q, body=b"".join(k + b"\n" for k in keys))
    expect(status == 200, f"/_cluster/owners: {status}")
    return body.decode().split("\n")[:-1]


def case_placement(cluster):
    """Every key on exactly one node, the same one for /kv/ and POST /create, and the router
    agrees with the independent Python statement of the rule."""
    rng, front = random.Random(1), cluster.front()
    kv_keys = [random_key(rng, i) for i in range(300)]
    seed_keys = [f"s{i}-{rng.randint(0, 10**6)}".encode() for i in range(300)]
    for k in kv_keys:
        expect(put(front, k, b"v:" + k) in (201, 204), f"PUT {k!r}")
    for k in seed_keys:
        status, _, _ = front.request("POST", "/create", body=k + b":" + k)
        expect(status == 201, f"POST /create {k!r}: {status}")
        status, body, _ = front.request("GET", "/kv/" + enc(k))
        expect(status == 200 and body == k, f"GET /kv/ of a POST /create key {k!r}: {status}")
    where = {}
    for name in NAMES3:
        for k in cluster.node_keys(name):
            expect(k not in where, f"{k!r} on both {where.get(k)} and {name}")
            where[k] = name
    expect(set(where) == set(kv_keys + seed_keys), "the nodes hold other keys than were written")
    for k, name in where.items():
        expect(placement_ref.owner(NAMES3, k) == name, f"{k!r} on {name}, rule says otherwise")
    probe = [f"probe-{i}".encode() * (1 + i % 7) for i in range(2000)]  # 7..60 bytes
    for names in (None, ["n1", "n2", "n3", "n4"], ["n7"], ["n2", "n10", "n11"]):
        got = owners_of(cluster, probe, names)
        expect(got == [placement_ref.owner(names or NAMES3, k) for k in probe],
               f"Lua and Python placement differ for nodes {names}")
    share = {n: sum(1 for k in probe if placement_ref.owner(NAMES3, k) == n) / len(probe)
             for n in NAMES3}
    expect(all(0.2 < s < 0.47 for s in share.values()), f"uneven placement {share}")
    status, _, _ = front.request("PUT", "/update", body=seed_keys[0] + b":new")
    expect(status == 200, f"PUT /update through the front: {status}")


def case_listing(cluster):
    """GET / through the front against a model: full, JSON, paged, prefix/after/limit."""
    rng, front = random.Random(2), cluster.front()
    model = {}
    for i in range(3600):  # more than one internal page (1000) per node
        k = (rng.choice(["a", "b", "ab", "é"]) + f"{rng.randint(0, 10**6):07d}").encode()
        model[k] = f"v{i}\nline2\"q\\".encode() if i % 50 == 0 else f"v{i}".encode()
        expect(put(front, k, model[k]) in (201, 204), "PUT")
    keys = sorted(model)
    pos = {k: i for i, k in enumerate(keys)}

    def text_of(ks):
        return b"".join(k + b":" + model[k] + b"\n" for k in ks)

    status, body, resp = front.request("GET", "/")
    expect(status == 200 and body == text_of(keys), "full listing differs from the model")
    expect(resp.getheader("Date") is not None, "no Date on the listing")
    status, body, _ = front.request("GET", "/?limit=50", headers={"Accept": "application/json"})
    got = {k.encode("utf-8", "surrogateescape"): v.encode("utf-8", "surrogateescape")
           for k, v in json.loads(body.decode("utf-8", "surrogateescape")).items()}
    expect(status == 200 and got == {k: model[k] for k in keys[:50]}, "JSON page differs")
    for limit in (1, 7, 999, 1500):
        # Page with after = last key of the previous page, from the model.
        last = None
        for _ in range(min(len(keys) // limit + 2, 80)):  # limit 1, 7: the first 80 pages
            q = f"/?limit={limit}" + (f"&after={enc(last)}" if last is not None else "")
            status, body, _ = front.request("GET", q)
            expect(status == 200, f"GET {q}: {status}")
            start = 0 if last is None else pos[last] + 1
            expect(body == text_of(keys[start:start + limit]), f"page {q} differs")
            if start + limit >= len(keys):
                break
            last = keys[start + limit - 1]
    for _ in range(40):
        prefix = rng.choice(["", "a", "ab", "b", "é", "x"])
        after = rng.choice(keys) if rng.random() < 0.5 else None
        limit = rng.choice([None, 0, 1, 5, 40])
        want = [k for k in keys if k.startswith(prefix.encode()) and (after is None or k > after)]
        want = want[:limit] if limit is not None else want
        q = f"/?prefix={enc(prefix.encode())}" + (f"&after={enc(after)}" if after else "") + \
            (f"&limit={limit}" if limit is not None else "")
        status, body, _ = front.request("GET", q)
        expect(status == 200 and body == text_of(want), f"GET {q} differs from the model")
    status, body, _ = front.request("HEAD", "/")
    expect(status == 200 and body == b"", f"HEAD /: {status}")
    status, _, _ = front.request("GET", "/?limit=x")
    expect(status == 400, f"GET /?limit=x: {status}")


def case_scenario(cluster):
    bin_ = os.path.join(cluster.bin_dir, "httpkv")
    p = subprocess.run([bin_, "--target", cluster.state["front"], "scenario"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, f"httpkv scenario through the front: {p.stdout}{p.stderr}")


def case_stop(cluster):
    state = cluster.state
    pids = [state["haproxy_pid"]] + [n["pid"] for n in state["nodes"]]
    pids += processes.children(state["haproxy_pid"])
    p = cluster.run("stop", check=False)
    expect(p.returncode == 0, f"stop exited {p.returncode}: {p.stderr}")
    left = [pid for pid in pids if processes.alive(pid, "haproxy") or
            processes.alive(pid, "httpkv-server")]
    expect(not left, f"processes left after stop: {left}")
    expect(cluster.run("stop", check=False).returncode == 0, "a second stop failed")


from cluster_auth_cases import case_auth, write_token_file  # noqa: E402
from cluster_load_cases import case_add, case_kill  # noqa: E402
from cluster_move_cases import case_move_add, case_remove  # noqa: E402
from cluster_stale_cases import case_stale_client  # noqa: E402

CASES = {"placement": case_placement, "listing": case_listing, "scenario": case_scenario,
         "kill": case_kill, "add": case_add, "move_add": case_move_add, "remove": case_remove,
         "stop": case_stop, "auth": case_auth, "stale_client": case_stale_client}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: cluster_test.py {{{'|'.join(CASES)}}}", file=sys.stderr)
        return 2
    if not shutil.which("haproxy"):
        print("SKIP: haproxy not found (Debian package haproxy; scripts/install-deps.sh test)")
        return 77
    # ctest's timeout sends SIGTERM: unwind, so that the cluster is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    extra, token_file = (), None
    if sys.argv[1] == "auth":
        token_file = write_token_file()
        extra = ("--auth-file", token_file)
    try:
        with Cluster(extra=extra) as cluster:
            CASES[sys.argv[1]](cluster)
    finally:
        if token_file:
            os.unlink(token_file)
    print(f"PASS: {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
