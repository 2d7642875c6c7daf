"""The cluster test cases that move keys under writes: add (a 4th node) and remove (n2).

Both preload plain keys, keys with a TTL, a binary (non-UTF-8) value and a value with a
newline; writers rewrite some keys through the front during the move (cluster_load_cases.Writer
keeps every acknowledged write: status 201/204 and its value). Then: the moved count is the rule's, every key is on
its owner only (each node listed directly), every last acknowledged value reads back through
the front, TTLs survived."""
import re

from cluster_lib import enc, expect
from cluster_load_cases import run_writers
import placement_ref

NAMES3 = ["n1", "n2", "n3"]
MOVED = re.compile(r"moved (\d+) of (\d+) keys")
TTL = 600


def preload(front, count):
    """{key: (value, ttl or None)} written through the front."""
    data = {f"mv-{i}".encode(): (b"0:mv-%d" % i, None) for i in range(count)}
    data.update({f"ttl-{i}".encode(): (b"t%d" % i, TTL) for i in range(count // 10)})
    data[b"bin-\xff"] = (bytes(range(256)) + b"\xc3\x28\xff", None)
    data[b"newline-value"] = (b"line1\nline2\r\n", TTL)
    for k, (v, ttl) in data.items():
        q = "/kv/" + enc(k) + (f"?ttl={ttl}" if ttl else "")
        expect(front.request("PUT", q, body=v)[0] == 201, f"preload {k!r}")
    return data


def where_keys(cluster, names):
    """{key: node} over the nodes named, failing on a key held by two."""
    where = {}
    for name in names:
        for k in cluster.node_keys(name):
            expect(k not in where, f"{k!r} on both {where.get(k)} and {name}")
            where[k] = name
    return where


def acked_of(writers):
    acked = {}
    for w in writers:
        acked.update(w.acked)
    return acked


def check_after(cluster, data, acked, writers, moving, names, out):
    """writers: those that ran during this move (their answers are checked); acked: the last
    acknowledged value of each key written so far."""
    m = MOVED.search(out)
    expect(m, f"no count of moved keys printed: {out!r}")
    expect(int(m.group(1)) == len(moving), f"moved {m.group(1)}, the rule moves {len(moving)}")
    where = where_keys(cluster, names)
    expect(set(where) == set(data), "keys lost or invented by the move")
    for k, name in where.items():
        expect(name == placement_ref.owner(names, k), f"{k!r} on {name}, not its owner")
    for w in writers:
        for k, method, status in w.answers:
            ok = (200, 201, 204) + ((503,) if k in moving else ())
            expect(status in ok, f"{method} {k!r} during the move: {status}")
    front = cluster.front()
    for k, (value, ttl) in data.items():
        status, body, resp = front.request("GET", "/kv/" + enc(k))
        expect(status == 200 and body == acked.get(k, value), f"{k!r} after the move: {body!r}")
        left = resp.getheader("X-Expires-In")
        if ttl:
            expect(left is not None and TTL - 120 < int(left) <= TTL, f"{k!r} TTL: {left}")
        else:
            expect(left is None, f"{k!r} gained a TTL: {left}")
    return int(m.group(2))


def case_move_add(cluster):
    """add under writes, with TTLs, a binary value and a value holding a newline."""
    data = preload(cluster.front(), 3000)
    names4 = NAMES3 + ["n4"]
    moving = {k for k in data if placement_ref.owner(names4, k) == "n4"}
    busy = [k for k in data if k.startswith(b"mv-")][::10]
    result = {}
    writers = run_writers(cluster, busy, 1000, lambda w: result.update(out=cluster.run("add").stdout),
                          threads=2)
    scanned = check_after(cluster, data, acked_of(writers), writers, moving, names4,
                          result["out"])
    expect(scanned == len(data), f"add scanned {scanned} keys, {len(data)} exist")


def case_remove(cluster):
    """remove n2 under writes: its keys go to their owners over n1, n3; then add makes n4 (a
    name is never reused) and moves only the keys n4 owns."""
    data = preload(cluster.front(), 3000)
    names = ["n1", "n3"]
    moving = {k for k in data if placement_ref.owner(NAMES3, k) == "n2"}
    busy = [k for k in data if k.startswith(b"mv-")][::10]
    result = {}
    writers = run_writers(cluster, busy, 1000,
                          lambda w: result.update(out=cluster.run("remove", "n2").stdout),
                          threads=2)
    acked = acked_of(writers)
    check_after(cluster, data, acked, writers, moving, names, result["out"])
    state = cluster.state
    expect([n["name"] for n in state["nodes"]] == names and state.get("retired") == ["n2"],
           f"cluster.json after remove: {state}")
    expect(cluster.run("remove", "n2", check=False).returncode == 2, "removed twice")
    out = cluster.run("add").stdout
    expect("added n4" in out, f"add after remove did not make n4: {out!r}")
    names = ["n1", "n3", "n4"]
    moving = {k for k in data if placement_ref.owner(names, k) == "n4"}
    check_after(cluster, data, acked, [], moving, names, out)
