"""A cluster-aware client whose map is stale while the cluster changes (issue 20: a node says
that a key is not its own). The worst such client never re-reads cluster.json: it keeps
sending each key to its owner over the old nodes. The nodes know the placement (PUT
/admin/placement, owners.py), so such a client may be refused (421 + X-Owner) but never has a
write acknowledged and then lost."""
import threading

from cluster_lib import Client, enc, expect
import placement_ref

NAMES3 = ["n1", "n2", "n3"]
NAMES4 = NAMES3 + ["n4"]


class StaleWriter(threading.Thread):
    """PUTs its keys, in rounds, straight to their owners over NAMES3; keeps every answer
    (key, status, X-Owner) and the last acknowledged value of each key."""

    def __init__(self, wid, addrs, keys, stop):
        super().__init__(daemon=True)
        self.wid, self.keys, self.stop = wid, keys, stop
        self.conns = {name: Client(addr, timeout=5) for name, addr in addrs.items()}
        self.acked, self.answers, self.error = {}, [], None

    def run(self):
        try:
            r = 0
            while not self.stop.is_set():
                r += 1
                for k in self.keys:
                    value = f"{k.decode()}#{self.wid}.{r}".encode()
                    conn = self.conns[placement_ref.owner(NAMES3, k)]
                    status, _, resp = conn.request("PUT", "/kv/" + enc(k), body=value)
                    self.answers.append((k, status, resp.getheader("X-Owner")))
                    if status in (201, 204):
                        self.acked[k] = value
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = f"{type(e).__name__}: {e}"


def case_stale_client(cluster):
    front = cluster.front()
    keys = [f"st-{i}".encode() for i in range(400)]
    for k in keys:
        expect(front.request("PUT", "/kv/" + enc(k), body=b"0")[0] == 201, f"preload {k!r}")
    moving = {k for k in keys if placement_ref.owner(NAMES4, k) == "n4"}
    expect(cluster.state.get("placement") == NAMES3, f"placement {cluster.state.get('placement')}")
    addrs = {n["name"]: n["addr"] for n in cluster.state["nodes"]}
    stop = threading.Event()
    writers = [StaleWriter(i, addrs, keys[i::2], stop) for i in range(2)]
    for w in writers:
        w.start()
    for w in writers:  # each has written (a condition, not a sleep)
        while w.is_alive() and len(w.answers) < 50:
            w.join(0.01)
    out = cluster.run("add").stdout
    expect("added n4" in out, f"add: {out!r}")
    stop.set()
    for w in writers:
        w.join(60)
        expect(not w.is_alive() and w.error is None, f"stale writer: {w.error}")
    answers = [a for w in writers for a in w.answers]
    bad = [a for a in answers if a[1] not in (201, 204)
           and not (a[1] == 421 and a[0] in moving and a[2] == "n4")]
    expect(not bad, f"answers other than 2xx, or 421 naming n4 for a moving key: {bad[:5]}")
    acked = {}
    for w in writers:
        acked.update(w.acked)
    for k in keys:
        status, body, _ = front.request("GET", "/kv/" + enc(k))
        expect(status == 200 and body == acked.get(k, b"0"),
               f"{k!r} after add: {status} {body!r}, last acknowledged {acked.get(k)!r}")
    expect(cluster.state.get("placement") == NAMES4, f"placement {cluster.state.get('placement')}")
    # Now, deterministically: the stale client's next write of a moving key is refused, naming
    # n4; the same write to n4 is taken.
    k = sorted(moving)[0]
    old = Client(addrs[placement_ref.owner(NAMES3, k)])
    status, _, resp = old.request("PUT", "/kv/" + enc(k), body=b"late")
    expect(status == 421 and resp.getheader("X-Owner") == "n4", f"stale PUT after add: {status}")
    expect(cluster.node("n4").request("PUT", "/kv/" + enc(k), body=b"late")[0] == 204, "PUT on n4")
    refused = sum(1 for a in answers if a[1] == 421)
    print(f"stale writers: {len(answers)} writes, {refused} refused with 421 (moving keys: "
          f"{len(moving)})")
