"""Harness for the replication fault tests (ctest label `replication`): a cluster with replicas
(tools/cluster.sh start --replicas R), writers that record every attempt and its outcome,
readers, feed followers, helpers to find a shard's primary, and the history checker.

Outcomes of a write attempt: "ack" (2xx: the write must survive), "fail" (a definite refusal
that must not be applied: 4xx such as 421 from a replica, or HAProxy's own 503 "no primary"),
"unknown" (5xx from the server, 502/504, timeout, connection error: it may or may not be there).
Every value written is unique (key|writer|n), so a value read names the attempt that wrote it.
"""
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.request

from cluster_lib import Client, Cluster, enc, expect, fail
import placement_ref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools", "cluster"))
import processes  # noqa: E402


def wait_for(cond, timeout, what):
    """Polls cond() (truthy = done) every 50 ms; returns its value; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def get(addr, path, timeout=2.0):
    return processes.http_get(addr, path, timeout=timeout)


class ReplicatedCluster(Cluster):
    def __init__(self, shards=1, replicas=2, sync=1, etcd_members=1, extra=()):
        super().__init__(nodes=shards, extra=("--replicas", str(replicas), "--sync", str(sync),
                                              "--etcd-members", str(etcd_members)) + tuple(extra))
        st = self.state
        expect(set(st["shards"]) == {f"s{k}" for k in range(1, shards + 1)}, "shards in cluster.json")
        expect(all(n.get("shard") for n in st["nodes"]), "a node without its shard in cluster.json")
        expect(len(st["etcd"]["endpoints"]) == etcd_members == len(st["etcd"]["pids"]),
               "etcd endpoints/pids in cluster.json")

    # --- who is who ---------------------------------------------------------------------------

    @property
    def shards(self):
        return sorted(self.state["shards"], key=lambda s: int(s[1:]))

    def members(self, shard):
        return list(self.state["shards"][shard])

    def addr(self, name):
        return next(n["addr"] for n in self.state["nodes"] if n["name"] == name)

    def pid(self, name):
        for n in self.state["nodes"]:
            if n["name"] == name:
                return n["pid"]
        return next(m["pid"] for m in self.state["etcd"]["members"] if m["name"] == name)

    def shard_of(self, key: bytes):
        return placement_ref.owner(self.shards, key)

    def replication(self, name):
        """GET /admin/replication of one member as a dict, or None."""
        status, body = get(self.addr(name), "/admin/replication")
        if status != 200:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None

    def primaries(self, shard):
        """Members of shard answering GET /primary 200 now."""
        return [m for m in self.members(shard) if get(self.addr(m), "/primary", 1.0)[0] == 200]

    def front_routes(self):
        status, body = get(self.state["front"], "/_cluster/primaries")
        expect(status == 200, f"/_cluster/primaries: {status}")
        return {p[0]: ([] if p[1] == "-" else p[1].split(","))
                for p in (line.split() for line in body.decode().splitlines()) if len(p) == 2}

    def wait_primary(self, shard, exclude=(), timeout=15.0):
        """The one member of shard answering /primary 200 (not one of exclude), routed to by the
        front; bounded."""
        def one():
            p = self.primaries(shard)
            if len(p) == 1 and p[0] not in exclude and self.front_routes().get(shard) == p:
                return p[0]
            return None
        return wait_for(one, timeout, f"a primary of {shard} (not {list(exclude)}) routed to by the front")

    def wait_replica(self, name, timeout=20.0):
        wait_for(lambda: get(self.addr(name), "/replica", 1.0)[0] == 200, timeout,
                 f"{name} to be a replica streaming from its primary (GET /replica 200)")

    def sigstop(self, name):
        os.kill(self.pid(name), signal.SIGSTOP)

    def sigcont(self, name):
        os.kill(self.pid(name), signal.SIGCONT)

    def etcd_leader(self):
        """Name of the etcd member that is the raft leader (v3 gRPC gateway)."""
        by_id, leader = {}, None
        for m in self.state["etcd"]["members"]:
            if not m["pid"]:
                continue
            try:
                req = urllib.request.Request(m["client"] + "/v3/maintenance/status", data=b"{}",
                                             method="POST")
                with urllib.request.urlopen(req, timeout=2) as r:
                    st = json.loads(r.read())
            except OSError:
                continue
            by_id[st["header"]["member_id"]] = m["name"]
            leader = st.get("leader", leader)
        return by_id.get(leader)

    def listing(self, name):
        """(dict key -> value, X-Seq) of one member, asked directly (JSON pages); None if down."""
        c, out, after, seq = Client(self.addr(name), timeout=5), {}, None, None
        try:
            while True:
                q = "/?limit=1000" + (f"&after={enc(after)}" if after is not None else "")
                status, body, resp = c.request("GET", q, headers={"Accept": "application/json"})
                if status != 200:
                    return None
                if seq is None:
                    seq = resp.getheader("X-Seq")
                page = {k.encode("utf-8", "surrogateescape"): v.encode("utf-8", "surrogateescape")
                        for k, v in json.loads(body.decode("utf-8", "surrogateescape")).items()}
                out.update(page)
                if len(page) < 1000:
                    return out, seq
                after = max(page)
        except OSError:
            return None
        finally:
            c.close()


# --- writers, readers, feed ---------------------------------------------------------------------

class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.writes = {}  # key -> [attempt dicts in issue order]
        self.by_value = {}  # value -> attempt
        self.violations = []

    def begin(self, key, value, via):
        a = {"key": key, "value": value, "via": via, "t0": time.monotonic(), "t1": None,
             "outcome": None, "status": None}
        with self.lock:
            a["idx"] = len(self.writes.setdefault(key, []))
            self.writes[key].append(a)
            self.by_value[value] = a
        return a

    def last_ack(self, key):
        with self.lock:
            acked = [a for a in self.writes.get(key, []) if a["outcome"] == "ack"]
        return acked[-1] if acked else None

    def violation(self, text):
        with self.lock:
            self.violations.append(text)

    def acks(self, shard_of=None, shard=None, since=0.0):
        with self.lock:
            return sum(1 for ats in self.writes.values() for a in ats
                       if a["outcome"] == "ack" and a["t0"] >= since
                       and (shard is None or shard_of(a["key"]) == shard))


def outcome_of(status):
    if 200 <= status < 300:
        return "ack"
    if 400 <= status < 500:
        return "fail"
    return "unknown"


class Writer(threading.Thread):
    """PUTs its own keys in rounds to target() (the front, or a member's address) and reads each
    back through the front after an ack. Every attempt goes into history."""

    def __init__(self, wid, cluster, history, keys, stop, target=None, timeout=5.0, read_back=True):
        super().__init__(daemon=True)
        self.wid, self.cluster, self.history, self.keys, self.stop = wid, cluster, history, keys, stop
        self.target = target or (lambda: cluster.state["front"])
        self.timeout, self.read_back, self.n = timeout, read_back, 0
        self.error = None

    def run(self):
        try:
            addr = self.target()
            client = Client(addr, timeout=self.timeout)
            reader = Client(self.cluster.state["front"], timeout=self.timeout)
            while not self.stop.is_set():
                for k in self.keys:
                    if self.stop.is_set():
                        break
                    if self.target() != addr:
                        client.close()
                        addr = self.target()
                        client = Client(addr, timeout=self.timeout)
                    self.n += 1
                    value = k + f"|w{self.wid}|{self.n}".encode()
                    a = self.history.begin(k, value, addr)
                    try:
                        status, body, _ = client.request("PUT", "/kv/" + enc(k), body=value)
                        a["status"], a["outcome"] = status, outcome_of(status)
                        if status >= 300:
                            a["body"] = body[:100]
                        # HAProxy's own "no primary" 503 never reached a member: not applied.
                        # (Its other 503s may come after the primary took the write: unknown.)
                        if status == 503 and b"not applied" in body:
                            a["outcome"] = "fail"
                    except (OSError, socket.timeout) as e:
                        client.close()
                        a["status"], a["outcome"] = repr(e), "unknown"
                    a["t1"] = time.monotonic()
                    if a["outcome"] == "ack" and self.read_back:
                        self.check_read(reader, k, a)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = f"{type(e).__name__}: {e}"

    def check_read(self, reader, key, acked):
        try:
            status, body, _ = reader.request("GET", "/kv/" + enc(key))
        except OSError:
            reader.close()
            return
        if status != 200:
            return  # a failover in progress; what a 200 says is what is checked
        got = self.history.by_value.get(body)
        if got is None or got["key"] != key:
            self.history.violation(f"GET {key!r} through the front read {body!r}, never written")
        elif got["idx"] < acked["idx"]:
            self.history.violation(f"GET {key!r} through the front read {body!r} after "
                                   f"{acked['value']!r} was acknowledged (stale or lost)")


class Reader(threading.Thread):
    """GETs random written keys straight from the given members (replicas may lag, but may
    never show a value that was never written)."""

    def __init__(self, cluster, history, names, stop):
        super().__init__(daemon=True)
        self.cluster, self.history, self.names, self.stop = cluster, history, names, stop
        self.reads, self.error = 0, None

    def run(self):
        try:
            clients = {n: Client(self.cluster.addr(n), timeout=2) for n in self.names}
            i = 0
            while not self.stop.is_set():
                with self.history.lock:
                    keys = list(self.history.writes)
                if not keys:
                    time.sleep(0.01)  # nothing written yet; not a synchronisation
                    continue
                i += 1
                key, name = keys[i % len(keys)], self.names[i % len(self.names)]
                try:
                    status, body, _ = clients[name].request("GET", "/kv/" + enc(key))
                except OSError:
                    clients[name].close()
                    continue
                self.reads += 1
                if status == 200:
                    got = self.history.by_value.get(body)
                    if got is None or got["key"] != key:
                        self.history.violation(f"{name} served {key!r} = {body!r}, never written")
        except Exception as e:  # noqa: BLE001
            self.error = f"{type(e).__name__}: {e}"


class FeedFollower(threading.Thread):
    """Follows a shard's change feed on its current primary, resuming with Last-Event-ID on the
    next primary after a failover; event ids must strictly increase and every put must carry a
    value that was written."""

    def __init__(self, cluster, history, shard, stop):
        super().__init__(daemon=True)
        self.cluster, self.history, self.shard, self.stop = cluster, history, shard, stop
        self.last_id, self.events, self.error = None, 0, None

    def run(self):
        try:
            while not self.stop.is_set():
                try:
                    p = self.cluster.primaries(self.shard)
                except KeyError:
                    return  # the shard was removed (cluster.sh remove DIR sK): nothing to follow
                if len(p) != 1:
                    time.sleep(0.05)  # between primaries: poll again
                    continue
                self.follow(self.cluster.addr(p[0]))
                time.sleep(0.05)  # pacing between reconnects, not a synchronisation
        except Exception as e:  # noqa: BLE001
            self.error = f"{type(e).__name__}: {e}"

    def follow(self, addr):
        host, port = addr.rsplit(":", 1)
        try:
            s = socket.create_connection((host, int(port)), timeout=1.0)
        except OSError:
            return
        with s:
            hdr = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id is not None else ""
            q = "/kv/?watch=1" + ("&since=0" if self.last_id is None else "")
            s.sendall(f"GET {q} HTTP/1.1\r\nHost: {addr}\r\n{hdr}\r\n".encode())
            buf, event = b"", {}
            while not self.stop.is_set():
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.rstrip(b"\r")
                    if line.startswith(b"id: "):
                        event["id"] = int(line[4:])
                    elif line.startswith(b"data: "):
                        event["data"] = line[6:]
                    elif line == b"" and "id" in event:
                        self.check(event)
                        event = {}

    def check(self, event):
        eid = event["id"]
        if self.last_id is not None and eid <= self.last_id:
            self.history.violation(f"feed of {self.shard}: id {eid} after {self.last_id}")
        self.last_id, self.events = eid, self.events + 1
        try:
            data = json.loads(event.get("data", b"{}"))
        except ValueError:
            return
        if "value" in data:
            v = data["value"].encode("utf-8", "surrogateescape")
            if v not in self.history.by_value:
                self.history.violation(f"feed of {self.shard}: value {v!r} never written")


class Load:
    """Writers (through the front, keys spread over every shard), readers (every member) and a
    feed follower per shard; stopped and joined by stop(), even on failure (context manager)."""

    def __init__(self, cluster, history, writers=4, keys_per_writer=30, pinned=(), feeds=True):
        self.cluster, self.history, self.stop_ev = cluster, history, threading.Event()
        self.threads = []
        for w in range(writers):
            keys = [f"w{w}-k{i}".encode() for i in range(keys_per_writer)]
            self.threads.append(Writer(w, cluster, history, keys, self.stop_ev))
        for w, target in enumerate(pinned, start=writers):  # straight to a given member
            keys = [f"p{w}-k{i}".encode() for i in range(keys_per_writer)]
            self.threads.append(Writer(w, cluster, history, keys, self.stop_ev, target=target,
                                       timeout=30.0, read_back=False))
        names = [n["name"] for n in cluster.state["nodes"]]
        self.threads.append(Reader(cluster, history, names, self.stop_ev))
        if feeds:
            self.threads += [FeedFollower(cluster, history, s, self.stop_ev) for s in cluster.shards]

    def __enter__(self):
        for t in self.threads:
            t.start()
        wait_for(lambda: self.history.acks() >= 50, 15, "the writers to get going (50 acks)")
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(40)
        stuck = [t for t in self.threads if t.is_alive()]
        expect(not stuck, f"threads did not stop: {stuck}")
        errors = [t.error for t in self.threads if t.error]
        expect(not errors, f"load threads failed: {errors}")

    def __exit__(self, *exc):
        if not self.stop_ev.is_set():
            self.stop_ev.set()
            for t in self.threads:
                t.join(40)

    def wait_acks(self, n, shard=None, since=0.0, timeout=15.0, what=""):
        wait_for(lambda: self.history.acks(self.cluster.shard_of, shard, since) >= n, timeout,
                 f"{n} acknowledged writes{' on ' + shard if shard else ''} {what}")


# --- the history checker ------------------------------------------------------------------------

def converge(cluster, shard, timeout=20.0):
    """Waits (bounded) until every member of shard lists the same pairs and the same X-Seq;
    returns the pairs."""
    last = {}

    def same():
        got = {m: cluster.listing(m) for m in cluster.members(shard)}
        last.update(got)
        if any(v is None for v in got.values()):
            return None
        first = next(iter(got.values()))
        return first if all(v == first for v in got.values()) else None

    deadline = time.monotonic() + timeout
    while True:
        v = same()
        if v:
            return v[0]
        if time.monotonic() > deadline:
            summary = {m: (None if v is None else (len(v[0]), v[1])) for m, v in last.items()}
            fail(f"members of {shard} did not converge in {timeout:.0f}s: "
                 f"(pairs, X-Seq) per member {summary}")
        time.sleep(0.1)


def check_history(cluster, history):
    """After healing: every member of each shard holds the same pairs and X-Seq; every
    acknowledged write is there (or a later write of its key that was not refused); no value
    that was never written; no key outside its shard; no violation seen during the run."""
    problems = list(history.violations)
    for shard in cluster.shards:
        pairs = converge(cluster, shard)
        for key, value in pairs.items():
            if cluster.shard_of(key) != shard:
                problems.append(f"{key!r} is on {shard}, its shard is {cluster.shard_of(key)}")
            a = history.by_value.get(value)
            if a is None or a["key"] != key:
                problems.append(f"{shard} holds {key!r} = {value!r}, never written")
            elif a["outcome"] == "fail":
                problems.append(f"{shard} holds {value!r}, whose write was refused ({a['status']})")
        for key, attempts in history.writes.items():
            if cluster.shard_of(key) != shard:
                continue
            acked = [a for a in attempts if a["outcome"] == "ack"]
            if not acked:
                continue
            have = history.by_value.get(pairs.get(key))
            if have is None or have["idx"] < acked[-1]["idx"]:
                problems.append(f"acknowledged write lost: {key!r} = {acked[-1]['value']!r} "
                                f"(via {acked[-1]['via']}), the shard holds {pairs.get(key)!r}")
    expect(not problems, f"{len(problems)} history violations, first: {problems[:5]}")
    outcomes = {}
    for attempts in history.writes.values():
        for a in attempts:
            outcomes[a["outcome"]] = outcomes.get(a["outcome"], 0) + 1
    print(f"history: {outcomes}, keys {len(history.writes)}")
    return outcomes
