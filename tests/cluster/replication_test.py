#!/usr/bin/env python3
"""ctest label `replication`: failover of shards with replicas (SPEC "Replication and
failover", issue 19 item 7), with processes and signals only.

    replication_test.py CASE

    basic            start --replicas 2 --sync 1 (2 shards): cluster.json, one primary per shard,
                     writes through the front reach every member, stop leaves nothing
    primary_kill     kill -9 of s1's primary under writes (2 shards, --replicas 2 --sync 1): no
                     acknowledged write lost, s1 writable through the front within 10 s, s2
                     never fails; the old primary restarts and rejoins as a replica
    primary_pause    SIGSTOP of the primary past its lease, then SIGCONT: a new primary is
                     elected, the old one steps down (nothing it answered 2xx is lost) and rejoins
    replica_restart  a replica killed under writes and restarted: writes go on, it catches up
    etcd_leader_kill 3 etcd members, the raft leader killed under writes: no write lost
    etcd_quorum_lost 2 of 3 etcd members killed: writes refused after the lease, reads still
                     served by the members; quorum back: writable again, nothing lost
    primary_isolated the primary cut off from etcd and its replicas (nftables on loopback): it
                     stops acknowledging at its lease, a replica takes over, and on healing it
                     discards the tail it wrote meanwhile and rejoins
    replicas_cut_off the primary cut off from its replicas only: no failover, no write
                     acknowledged (503) until they can hold it again, then they catch up
    auth             --auth-file on a shard of 1+1 with --sync 1: the replica fetches the log
                     with the file's first admin token; listing through the front with X-Seq
    replica_full_copy a replica down while its primary compacted away what it lacks: it
                     discards its log and takes a full copy, then streams
    add_shard        cluster.sh add on 1 shard of 1+1 (--sync 1) under writes through the front:
                     a shard s2 of 2 new members (n3, n4) takes the keys it owns; every
                     acknowledged write reads back through the front, each key is on its
                     owner shard's members only (both members of s2 hold its keys), the only
                     refusals are the moving keys' 503s (no 421 from a replica after a reload)
    remove_shard     cluster.sh remove s2 on 2 shards of 1+1 under writes: s2's keys drain to s1,
                     its members stop, cluster.json forgets it; a node name is refused (exit 2);
                     same checks

Each case runs its own cluster in a temp dir and stops it even on failure. Exit 0 pass,
1 fail, 77 skipped (no haproxy or no etcd; the partition cases also without root or nft)."""
import os
import shutil
import signal
import sys
import time

import partition
from cluster_auth_cases import case_replicated_auth, write_token_file
from cluster_lib import Client, enc, expect, fail
from partition import Partition
from replication_lib import (History, Load, ReplicatedCluster, check_history, get, processes,
                             wait_for)
from replication_move_cases import case_add_shard, case_remove_shard

LEASE = 5.0  # the server's default --leader-ttl
SYNC_TIMEOUT = 5.0  # the server's default --sync-timeout
FAILOVER = 10.0  # SPEC: a shard's keys are served again through the front within 10 s


def direct_put(cluster, name, key, value):
    try:
        status, body, resp = Client(cluster.addr(name), timeout=5).request(
            "PUT", "/kv/" + enc(key), body=value)
        return status, body, resp
    except OSError as e:
        return 0, repr(e).encode(), None


def case_basic(cluster):
    st = cluster.state
    for k in ("front", "haproxy_pid", "nodes", "etcd", "shards", "cluster_name", "replicas", "sync"):
        expect(k in st, f"cluster.json has no {k!r}")
    expect([n["name"] for n in st["nodes"]] == [f"n{i}" for i in range(1, 7)], "node names")
    expect(st["shards"] == {"s1": ["n1", "n2", "n3"], "s2": ["n4", "n5", "n6"]}, st["shards"])
    for shard in cluster.shards:
        p = cluster.wait_primary(shard)
        info = cluster.replication(p)
        expect(info is not None and info.get("role") == "primary" and info.get("shard") == shard,
               f"/admin/replication of {p}: {info}")
        candidates = [f"to-a-replica-{i}".encode() for i in range(64)]
        mine = next(k for k in candidates if cluster.shard_of(k) == shard)
        other = next(k for k in candidates if cluster.shard_of(k) != shard)
        for m in cluster.members(shard):
            if m != p:
                cluster.wait_replica(m)
                status, _, resp = direct_put(cluster, m, mine, b"x")
                expect(status == 421 and resp.getheader("X-Primary") == cluster.addr(p),
                       f"PUT to replica {m}: {status}, X-Primary "
                       f"{resp.getheader('X-Primary') if resp else None}, primary {cluster.addr(p)}")
            # Any member, for another shard's key: 421 naming that shard (the placement).
            status, _, resp = direct_put(cluster, m, other, b"x")
            expect(status == 421 and resp.getheader("X-Owner") == cluster.shard_of(other),
                   f"PUT of another shard's key to {m}: {status}, X-Owner "
                   f"{resp.getheader('X-Owner') if resp else None}")
    history = History()
    with Load(cluster, history) as load:
        load.wait_acks(300)
        load.stop()
    check_history(cluster, history)
    pids = [n["pid"] for n in st["nodes"]] + st["etcd"]["pids"] + [st["haproxy_pid"]]
    pids += processes.children(st["haproxy_pid"])
    p = cluster.run("stop", check=False)
    expect(p.returncode == 0, f"stop: {p.stderr}")
    left = [pid for pid in pids if any(processes.alive(pid, c)
                                       for c in ("haproxy", "httpkv-server", "etcd"))]
    expect(not left, f"processes left after stop: {left}")


def case_primary_kill(cluster):
    history = History()
    old = {s: cluster.wait_primary(s) for s in cluster.shards}
    with Load(cluster, history) as load:
        load.wait_acks(200)
        killed_at = time.monotonic()
        cluster.run("kill", old["s1"])
        load.wait_acks(1, "s1", since=killed_at, timeout=FAILOVER + 5, what="after the kill")
        new = cluster.wait_primary("s1", exclude=(old["s1"],))
        load.wait_acks(100, "s1", since=killed_at, timeout=15, what="on the new primary")
        cluster.run("restart", old["s1"])
        cluster.wait_replica(old["s1"])
        load.stop()
    first = min((a["t1"] for ats in history.writes.values() for a in ats
                 if a["outcome"] == "ack" and a["t0"] > killed_at and cluster.shard_of(a["key"]) == "s1"),
                default=None)
    expect(first is not None and first - killed_at < FAILOVER,
           f"s1 writable through the front {None if first is None else round(first - killed_at, 2)}"
           f" s after the kill (SPEC: within {FAILOVER} s); new primary {new}")
    s2_bad = [a for ats in history.writes.values() for a in ats
              if cluster.shard_of(a["key"]) == "s2" and a["outcome"] != "ack"]
    expect(not s2_bad, f"s2 writes failed during s1's failover: {s2_bad[:3]}")
    check_history(cluster, history)
    print(f"failover: first write acknowledged on s1 {first - killed_at:.2f} s after the kill")


def case_primary_pause(cluster):
    history = History()
    old = cluster.wait_primary("s1")
    old_addr = cluster.addr(old)
    term = (cluster.replication(old) or {}).get("term")
    with Load(cluster, history, pinned=[lambda: old_addr]) as load:
        load.wait_acks(100)
        stopped_at = time.monotonic()
        cluster.sigstop(old)
        try:
            new = cluster.wait_primary("s1", exclude=(old,), timeout=LEASE + FAILOVER)
            load.wait_acks(50, "s1", since=time.monotonic(), timeout=15, what="on the new primary")
        finally:
            cluster.sigcont(old)
        resumed_at = time.monotonic()
        wait_for(lambda: get(old_addr, "/primary", 1.0)[0] == 503, 5,
                 f"the paused primary {old} to step down after SIGCONT")
        cluster.wait_replica(old)
        load.wait_acks(50, "s1", since=time.monotonic(), timeout=15, what="after the rejoin")
        load.stop()
    new_term = (cluster.replication(new) or {}).get("term")
    if term is not None and new_term is not None:
        expect(new_term > term, f"term of the new primary {new_term} not after {term}")
    late = [a for ats in history.writes.values() for a in ats
            if a["via"] == old_addr and a["outcome"] == "ack" and a["t1"] > resumed_at]
    print(f"pause: new primary {new} {resumed_at - stopped_at:.1f} s into the pause; the old "
          f"primary acknowledged {len(late)} writes after SIGCONT (each must survive)")
    check_history(cluster, history)


def case_replica_restart(cluster):
    history = History()
    p = cluster.wait_primary("s1")
    replica = next(m for m in cluster.members("s1") if m != p)
    with Load(cluster, history) as load:
        load.wait_acks(100)
        killed_at = time.monotonic()
        cluster.run("kill", replica)
        load.wait_acks(200, since=killed_at, timeout=FAILOVER + 5, what="with a replica down")
        cluster.run("restart", replica)
        cluster.wait_replica(replica)
        load.wait_acks(100, since=time.monotonic(), timeout=15, what="after the restart")
        load.stop()
    expect(cluster.primaries("s1") == [p], f"the primary changed: {cluster.primaries('s1')}")
    check_history(cluster, history)


def case_etcd_leader_kill(cluster):
    history = History()
    for s in cluster.shards:
        cluster.wait_primary(s)
    leader = wait_for(cluster.etcd_leader, 10, "etcd to report its leader")
    with Load(cluster, history) as load:
        load.wait_acks(200)
        killed_at = time.monotonic()
        cluster.run("kill", leader)
        wait_for(lambda: cluster.etcd_leader() not in (None, leader), 10, "a new etcd leader")
        for s in cluster.shards:
            load.wait_acks(50, s, since=time.monotonic(), timeout=FAILOVER + 5,
                           what="after the etcd leader was killed")
        cluster.run("restart", leader)
        load.wait_acks(100, since=time.monotonic(), timeout=15, what="with etcd whole again")
        load.stop()
    print(f"etcd: killed the leader {leader}; every shard writable again "
          f"{time.monotonic() - killed_at:.1f} s later (with the restart)")
    check_history(cluster, history)


def case_etcd_quorum_lost(cluster):
    history = History()
    for s in cluster.shards:
        cluster.wait_primary(s)
    front = Client(cluster.state["front"])
    probe = {s: None for s in cluster.shards}
    i = 0
    while not all(probe.values()):  # one preloaded key per shard (bounded: ~1/N hit each)
        k = f"probe-{i}".encode()
        i += 1
        if probe[cluster.shard_of(k)] is None:
            value = k + b"|w-1|1"
            history.begin(k, value, "front")
            a = history.writes[k][-1]
            status, _, _ = front.request("PUT", "/kv/" + enc(k), body=value)
            a["status"], a["outcome"], a["t1"] = status, "ack" if status in (201, 204) else "unknown", time.monotonic()
            expect(status in (201, 204), f"preload {k!r}: {status}")
            probe[cluster.shard_of(k)] = (k, value)
        expect(i < 1000, "no key for some shard")
    killed = [m["name"] for m in cluster.state["etcd"]["members"]][1:]
    with Load(cluster, history, feeds=False) as load:
        load.wait_acks(100)
        for name in killed:
            cluster.run("kill", name)
        lost_at = time.monotonic()
        # Bounded: the lease ends within --leader-ttl; then no member may acknowledge a write.
        for s in cluster.shards:
            for m in cluster.members(s):
                wait_for(lambda m=m: get(cluster.addr(m), "/primary", 1.0)[0] == 503,
                         LEASE + 5, f"{m} to give up its lease without etcd quorum")
        refused_from = time.monotonic()
        for s in cluster.shards:
            k, value = probe[s]
            for m in cluster.members(s):
                status, _, _ = direct_put(cluster, m, k, b"never")
                expect(not 200 <= status < 300, f"{m} acknowledged a write without etcd quorum")
                status, body, _ = Client(cluster.addr(m)).request("GET", "/kv/" + enc(k))
                expect(status == 200 and body == value, f"read of {k!r} on {m} without quorum: "
                       f"{status} {body!r}")
        late = [a for ats in history.writes.values() for a in ats
                if a["outcome"] == "ack" and a["t0"] > refused_from]
        expect(not late, f"writes acknowledged without etcd quorum: {late[:3]}")
        for name in killed:
            cluster.run("restart", name)
        for s in cluster.shards:
            cluster.wait_primary(s, timeout=FAILOVER + 10)
        load.wait_acks(100, since=time.monotonic(), timeout=15, what="with the quorum back")
        load.stop()
    print(f"quorum: every primary stepped down {refused_from - lost_at:.1f} s after the loss")
    check_history(cluster, history)


def host_of(addr):
    return addr.rsplit(":", 1)[0]


def etcd_ports(cluster):
    return [int(e.rsplit(":", 1)[1]) for e in cluster.state["etcd"]["endpoints"]]


def case_primary_isolated(cluster):
    """The primary is cut off from etcd and from its replicas (not from clients): it must stop
    acknowledging at its lease deadline; a replica takes over; the writes it took meanwhile
    (never acknowledged: no replica held them) are its divergent tail, which it discards when
    the partition heals and it rejoins (409, DISCARD, restart by re-exec, catch-up)."""
    history = History()
    old = cluster.wait_primary("s1")
    old_addr = cluster.addr(old)
    old_pid = cluster.pid(old)
    others = [m for m in cluster.members("s1") if m != old]
    with Load(cluster, history, pinned=[lambda: old_addr]) as load, Partition("iso") as cut:
        load.wait_acks(100)
        cut.cut(host_of(old_addr), [host_of(cluster.addr(m)) for m in others], etcd_ports(cluster))
        cut_at = time.monotonic()
        wait_for(lambda: get(old_addr, "/primary", 1.0)[0] == 503, LEASE + 3,
                 f"the isolated primary {old} to stop acknowledging (its lease)")
        fenced_at = time.monotonic()
        new = cluster.wait_primary("s1", exclude=(old,), timeout=LEASE + FAILOVER)
        load.wait_acks(50, "s1", since=time.monotonic(), timeout=15, what="on the new primary")
        # A tail only the old primary has: a write it appended but could not replicate.
        status, _, _ = direct_put(cluster, old, b"only-on-the-isolated-primary", b"x")
        expect(not 200 <= status < 300, f"the isolated primary acknowledged a write: {status}")
        cut.heal()
        cluster.wait_replica(old, timeout=30)
        load.wait_acks(50, "s1", since=time.monotonic(), timeout=15, what="after healing")
        load.stop()
    late = [a for ats in history.writes.values() for a in ats
            if a["via"] == old_addr and a["outcome"] == "ack" and a["t1"] > fenced_at]
    expect(not late, f"the isolated primary acknowledged writes after its lease: {late[:3]}")
    expect(cluster.pid(old) == old_pid, "the rejoining member kept its pid (re-exec)")
    with open(os.path.join(cluster.dir, old, "server.log"), errors="replace") as f:
        log = f.read()
    expect("keeping seqs up to" in log and "discard: " in log,
           f"{old} did not discard a divergent tail (its pinned writer's unacknowledged writes)")
    check_history(cluster, history)
    for m in cluster.members("s1"):
        status, _, _ = Client(cluster.addr(m)).request("GET", "/kv/only-on-the-isolated-primary")
        expect(status == 404, f"{m} holds a write that was never acknowledged anywhere: {status}")
    print(f"isolated: fenced {fenced_at - cut_at:.1f} s after the cut; new primary {new}")


def case_replicas_cut_off(cluster):
    """The primary keeps etcd but loses its replicas: no failover (it holds its lease), and
    under --sync 1 no write is acknowledged while no replica can hold it (503 after
    --sync-timeout); when the partition heals the replicas catch up and writes go on."""
    history = History()
    primary = cluster.wait_primary("s1")
    addr = cluster.addr(primary)
    others = [m for m in cluster.members("s1") if m != primary]
    with Load(cluster, history, feeds=False) as load, Partition("rep") as cut:
        load.wait_acks(100)
        cut.cut(host_of(addr), [host_of(cluster.addr(m)) for m in others])
        cut_at = time.monotonic()
        # It waits for a replica up to --sync-timeout (5 s by default), then gets 503: not
        # acknowledged, though it is in the primary's log (an unknown outcome for the history).
        key, value = b"while-cut-off", b"while-cut-off|w-9|1"
        history.begin(key, value, addr)
        attempt = history.writes[key][-1]
        status, body, _ = Client(addr, timeout=SYNC_TIMEOUT + 5).request(
            "PUT", "/kv/" + enc(key), body=value)
        attempt["status"], attempt["t1"] = status, time.monotonic()
        attempt["outcome"] = "ack" if 200 <= status < 300 else "unknown"
        expect(status == 503, f"a write without any replica to hold it got {status} {body!r}, "
                              "not 503")
        stuck_from = time.monotonic()
        expect(cluster.wait_primary("s1") == primary, "the primary kept its lease")
        cut.heal()
        load.wait_acks(50, "s1", since=time.monotonic(), timeout=20, what="after healing")
        load.stop()
    late = [a for ats in history.writes.values() for a in ats
            if a["outcome"] == "ack" and cut_at + 0.5 < a["t0"] and a["t1"] < stuck_from]
    expect(not late, f"writes acknowledged while no replica could hold them: {late[:3]}")
    check_history(cluster, history)


def case_replica_full_copy(cluster):
    """A replica that was down while its primary compacted away history it lacks (410) takes a
    full copy: it discards its log (DISCARD 0, re-exec), copies every record the primary still
    has, then follows the stream."""
    history = History()
    primary = cluster.wait_primary("s1")
    replica = [m for m in cluster.members("s1") if m != primary][0]
    cluster.wait_replica(replica)
    with Load(cluster, history, feeds=False, keys_per_writer=5) as load:
        load.wait_acks(50)
        cluster.run("kill", replica)
        load.wait_acks(300, since=time.monotonic(), what="with the replica down")
        load.stop()
    behind = cluster.replication(primary)["last_seq"]
    status, _, _ = Client(cluster.addr(primary)).request("POST", "/admin/compact")
    expect(status == 202, f"POST /admin/compact: {status}")
    wait_for(lambda: (cluster.replication(primary) or {}).get("horizon", 0) > 0, 20,
             "the primary's compaction to drop history")
    cluster.run("restart", replica)
    try:
        cluster.wait_replica(replica, timeout=30)
    finally:
        with open(os.path.join(cluster.dir, replica, "server.log"), errors="replace") as f:
            print("".join(f.readlines()[-25:]))
    wait_for(lambda: (cluster.replication(replica) or {}).get("last_seq", 0) >= behind, 20,
             "the replica to copy the primary's log")
    with open(os.path.join(cluster.dir, replica, "server.log"), errors="replace") as f:
        log = f.read()
    expect("full copy from" in log, f"{replica} did not take a full copy")
    check_history(cluster, history)




CASES = {  # name: (function, cluster.sh start options)
    "basic": (case_basic, dict(shards=2, replicas=2, sync=1)),
    "primary_kill": (case_primary_kill, dict(shards=2, replicas=2, sync=1)),
    "primary_pause": (case_primary_pause, dict(shards=1, replicas=2, sync=1)),
    "replica_restart": (case_replica_restart, dict(shards=1, replicas=2, sync=1)),
    "etcd_leader_kill": (case_etcd_leader_kill, dict(shards=2, replicas=2, sync=1, etcd_members=3)),
    "etcd_quorum_lost": (case_etcd_quorum_lost, dict(shards=2, replicas=2, sync=1, etcd_members=3)),
    "primary_isolated": (case_primary_isolated, dict(shards=1, replicas=2, sync=1)),
    "replicas_cut_off": (case_replicas_cut_off, dict(shards=1, replicas=2, sync=1)),
    "replica_full_copy": (case_replica_full_copy, dict(shards=1, replicas=1, sync=0)),
    "auth": (case_replicated_auth, dict(shards=1, replicas=1, sync=1)),
    "add_shard": (case_add_shard, dict(shards=1, replicas=1, sync=1)),
    "remove_shard": (case_remove_shard, dict(shards=2, replicas=1, sync=1)),
}
NEEDS_PARTITIONS = {"primary_isolated", "replicas_cut_off"}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: replication_test.py {{{'|'.join(CASES)}}}", file=sys.stderr)
        return 2
    for tool, package in (("haproxy", "haproxy"), ("etcd", "etcd-server")):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found (Debian package {package})")
            return 77
    if sys.argv[1] in NEEDS_PARTITIONS and partition.available():
        print(f"SKIP: {partition.available()}")
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    fn, opts = CASES[sys.argv[1]]
    token_file = write_token_file() if sys.argv[1] == "auth" else None
    if token_file:
        opts = dict(opts, extra=("--auth-file", token_file))
    try:
        with ReplicatedCluster(**opts) as cluster:
            fn(cluster)
    finally:
        if token_file:
            os.unlink(token_file)
    print(f"PASS: {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
