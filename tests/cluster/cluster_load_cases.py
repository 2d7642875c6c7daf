"""The cluster test cases that run load while the cluster changes: kill -9 of a node, add."""
import re
import threading

from cluster_lib import Client, enc, expect
import placement_ref

NAMES3 = ["n1", "n2", "n3"]


class Writer(threading.Thread):
    """Writes and reads its own keys through the front in rounds (bounded), remembering the
    last acknowledged value of each key and every answer it got, per owner."""

    def __init__(self, front, keys, rounds, stop):
        super().__init__(daemon=True)
        self.client, self.keys, self.rounds, self.stop = Client(front, timeout=5), keys, rounds, stop
        self.acked, self.answers = {}, []  # answers: (key, method, status)
        self.error = None

    def run(self):
        try:
            for r in range(self.rounds):
                if self.stop.is_set():
                    return
                for k in self.keys:
                    value = f"{k.decode()}@{r}".encode()
                    status, _, _ = self.client.request("PUT", "/kv/" + enc(k), body=value)
                    self.answers.append((k, "PUT", status))
                    if status in (201, 204):
                        self.acked[k] = value
                    status, body, _ = self.client.request("GET", "/kv/" + enc(k))
                    self.answers.append((k, "GET", status))
                    if status == 200 and body != self.acked.get(k):
                        self.error = f"GET {k!r} gave {body!r}, last acked {self.acked.get(k)!r}"
                        return
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = f"{type(e).__name__}: {e}"


def run_writers(cluster, keys, rounds, during, threads=4):
    stop = threading.Event()
    writers = [Writer(cluster.state["front"], keys[i::threads], rounds, stop) for i in range(threads)]
    for w in writers:
        w.start()
    # Let every writer get going (condition, not a sleep): each has some answers.
    for w in writers:
        while w.is_alive() and len(w.answers) < 20:
            w.join(0.01)
    during(writers)
    stop.set()
    for w in writers:
        w.join(120)
        expect(not w.is_alive(), "a writer did not finish")
        expect(w.error is None, f"writer: {w.error}")
    return writers


def case_kill(cluster):
    """kill -9 of n2 under load: no error for n1/n3 keys, 503 for n2's, data back after restart."""
    keys = [f"kill-{i}".encode() for i in range(240)]
    owner = {k: placement_ref.owner(NAMES3, k) for k in keys}
    killed_at = []

    def during(writers):
        cluster.run("kill", "n2")
        killed_at.extend(len(w.answers) for w in writers)
        # Keep the load on until each writer made 200 more requests with n2 down.
        for w, n in zip(writers, killed_at):
            while w.is_alive() and len(w.answers) < n + 200:
                w.join(0.01)

    writers = run_writers(cluster, keys, 60, during)
    dead_503 = 0
    for w, n in zip(writers, killed_at):
        for i, (k, method, status) in enumerate(w.answers):
            if owner[k] != "n2":
                expect(200 <= status < 300, f"{method} {k!r} (on {owner[k]}) got {status}")
            elif i >= n + 4:  # after the kill (a writer has at most one request in flight)
                expect(status == 503, f"{method} {k!r} (on dead n2) got {status}")
                dead_503 += 1
    expect(dead_503 > 0, "no request reached the dead node's keys")
    front = cluster.front()
    for method in ("GET", "HEAD"):
        status, _, _ = front.request(method, "/?limit=10")
        expect(status == 503, f"{method} / with n2 down: {status}, not 503 (a partial listing?)")
    for name in ("n1", "n3"):
        stray = [k for k in cluster.node_keys(name) if owner[k] != name]
        expect(not stray, f"{name} holds keys of another node: {stray[:3]}")
    cluster.run("restart", "n2")
    for w in writers:
        for k, value in w.acked.items():
            status, body, _ = front.request("GET", "/kv/" + enc(k))
            expect(status == 200 and body == value, f"after restart {k!r}: {status} {body!r}")


MOVED = re.compile(r"moved (\d+) of (\d+) keys")


def case_add(cluster):
    """add under writes: about 1/4 of the keys move, all to n4; none lost, none doubled."""
    front = cluster.front()
    keys = [f"add-{i}".encode() for i in range(3000)]
    for k in keys:
        expect(front.request("PUT", "/kv/" + enc(k), body=b"0:" + k)[0] == 201, "preload")
    before = {k: placement_ref.owner(NAMES3, k) for k in keys}
    busy = keys[::10]  # rewritten during the move
    result = {}

    def during(writers):
        result["out"] = cluster.run("add").stdout

    writers = run_writers(cluster, busy, 1000, during, threads=2)
    m = MOVED.search(result["out"])
    expect(m, f"add did not print how many keys moved: {result['out']!r}")
    moved, scanned = int(m.group(1)), int(m.group(2))
    names4 = NAMES3 + ["n4"]
    should_move = {k for k in keys if placement_ref.owner(names4, k) == "n4"}
    expect(moved == len(should_move), f"moved {moved}, the rule moves {len(should_move)}")
    expect(0.17 < moved / len(keys) < 0.33, f"moved fraction {moved / len(keys):.3f}, not ~1/4")
    expect(scanned == len(keys), f"add scanned {scanned} keys, {len(keys)} exist")
    where = {}
    for name in names4:
        for k in cluster.node_keys(name):
            expect(k not in where, f"{k!r} on both {where.get(k)} and {name}")
            where[k] = name
    expect(set(where) == set(keys), "keys lost or invented by add")
    for k, name in where.items():
        expect(name == placement_ref.owner(names4, k), f"{k!r} on {name}")
        expect(name == "n4" or name == before[k], f"{k!r} moved between old nodes")
    acked = {}
    for w in writers:
        acked.update(w.acked)
        for k, method, status in w.answers:
            ok = (200, 201, 204) + ((503,) if k in should_move else ())
            expect(status in ok, f"{method} {k!r} during add: {status}")
    for k in keys:
        status, body, _ = front.request("GET", "/kv/" + enc(k))
        expect(status == 200 and body == acked.get(k, b"0:" + k), f"{k!r} after add: {body!r}")
