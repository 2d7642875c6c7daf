"""Growing and shrinking a cluster with replicas under writes (replication_test.py cases
add_shard and remove_shard): cluster.sh add makes a shard of 1+R members and moves the keys it
owns; cluster.sh remove sK drains a shard to the others."""
import re
import time

from cluster_lib import Client, enc, expect
import placement_ref
from replication_lib import History, Load, check_history, outcome_of, processes

MOVED = re.compile(rb"moved (\d+) of (\d+) keys")


def preload(cluster, history, count):
    """count keys written through the front before the move, recorded in history."""
    front = Client(cluster.state["front"])
    for i in range(count):
        key = f"pre-{i}".encode()
        value = key + b"|w-1|1"
        a = history.begin(key, value, "front")
        status, _, _ = front.request("PUT", "/kv/" + enc(key), body=value)
        a["status"], a["outcome"], a["t1"] = status, outcome_of(status), time.monotonic()
        expect(status in (201, 204), f"preload {key!r}: {status}")
    front.close()
    return [f"pre-{i}".encode() for i in range(count)]


def check_move(cluster, history, out, moving, preloaded):
    """After cluster.sh add/remove with replicas under Load: the moved count, every refusal a
    503 of a moving key, every acknowledged write readable through the front, then
    check_history (each shard's members converge, hold only the keys their shard owns, and
    every acknowledged write)."""
    m = MOVED.search(out.encode())
    expect(m, f"no count of moved keys printed: {out!r}")
    low = sum(1 for k in preloaded if moving(k))
    high = low + sum(1 for k in history.writes if moving(k) and not k.startswith(b"pre-"))
    expect(low <= int(m.group(1)) <= high, f"moved {m.group(1)} keys, the rule moves {low}..{high}")
    refused = [a for ats in history.writes.values() for a in ats if a["outcome"] != "ack"]
    bad = [a for a in refused if a["status"] != 503 or not moving(a["key"])]
    expect(not bad, f"writes refused other than a moving key's 503: {bad[:3]}")
    front = Client(cluster.state["front"])
    for key, attempts in history.writes.items():
        acked = [a for a in attempts if a["outcome"] == "ack"]
        if not acked:
            continue
        status, body, _ = front.request("GET", "/kv/" + enc(key))
        got = history.by_value.get(body) if status == 200 else None
        expect(got is not None and got["key"] == key and got["outcome"] != "fail"
               and got["idx"] >= acked[-1]["idx"],
               f"{key!r} through the front after the move: {status} {body!r}, last "
               f"acknowledged {acked[-1]['value']!r}")
    front.close()
    check_history(cluster, history)
    print(f"moved {int(m.group(1))} keys ({len(refused)} writes refused with 503 while frozen)")


def case_add_shard(cluster):
    history = History()
    cluster.wait_primary("s1")
    preloaded = preload(cluster, history, 1000)
    with Load(cluster, history) as load:
        load.wait_acks(200)
        out = cluster.run("add").stdout
        expect("added shard s2" in out, f"add: {out!r}")
        st = cluster.state
        expect(st["shards"] == {"s1": ["n1", "n2"], "s2": ["n3", "n4"]}, st["shards"])
        expect([n.get("shard") for n in st["nodes"]] == ["s1", "s1", "s2", "s2"], st["nodes"])
        cluster.wait_primary("s2")
        load.wait_acks(100, "s2", since=time.monotonic(), what="on the new shard")
        load.stop()
    moving = lambda k: placement_ref.owner(["s1", "s2"], k) == "s2"  # noqa: E731
    check_move(cluster, history, out, moving, preloaded)
    for m in cluster.members("s2"):  # the replica too (check_history: the members converged)
        listed = cluster.listing(m)[0]
        expect(all(k in listed for k in preloaded if moving(k)), f"{m} lacks some of s2's keys")


def case_remove_shard(cluster):
    history = History()
    for s in cluster.shards:
        cluster.wait_primary(s)
    preloaded = preload(cluster, history, 1000)
    gone = cluster.members("s2")
    pids = [cluster.pid(m) for m in gone]
    p = cluster.run("remove", "n3", check=False)
    expect(p.returncode == 2 and "shard" in p.stderr, f"remove of a member: {p.returncode} "
                                                      f"{p.stderr!r}")
    with Load(cluster, history) as load:
        load.wait_acks(200)
        out = cluster.run("remove", "s2").stdout
        expect("removed shard s2" in out, f"remove: {out!r}")
        load.wait_acks(100, since=time.monotonic(), what="after the remove")
        load.stop()
    st = cluster.state
    expect(st["shards"] == {"s1": ["n1", "n2"]} and [n["name"] for n in st["nodes"]] == ["n1", "n2"]
           and st.get("retired") == gone and st.get("retired_shards") == ["s2"],
           f"cluster.json after remove: {st}")
    left = [pid for pid in pids if processes.alive(pid, "httpkv-server")]
    expect(not left, f"members of s2 still running: {left}")
    expect(cluster.run("remove", "s2", check=False).returncode == 2, "removed twice")
    expect(cluster.run("remove", "s1", check=False).returncode == 2, "removed the last shard")
    moving = lambda k: placement_ref.owner(["s1", "s2"], k) == "s2"  # noqa: E731
    check_move(cluster, history, out, moving, preloaded)
