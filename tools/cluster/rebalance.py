"""Moves the keys a new node now owns from the old nodes to it (cluster.sh add).

Placement is asked of the front (POST /_cluster/owners?nodes=...), which runs the router's own
Lua function (deploy/haproxy/placement.lua): one definition, no copy to drift.

  1. copy (the front still routes to the old nodes; clients see nothing): list every old
     node; for each key the new node owns, GET it from its old node (value and X-Expires-In)
     and PUT it on the new node.
  2. (cluster.py) reload HAProxy with the new node *frozen*: the new node's keys answer 503
     with Retry-After: 1; wait until the old workers are gone, so no request reaches an old
     node for such a key any more.
  3. catch_up: list the old nodes again, with values (1000 pairs per request, so this is
     short); copy what changed since step 1 or appeared, delete copies of keys deleted since.
  4. (cluster.py) reload HAProxy with the new node live.
  5. drop_old: DELETE the old copies, which no request reaches any more.
All requests to nodes are pipelined (pipeline.py), 1000 keys per round trip batch.
"""
import hashlib
import json
import urllib.parse

from pipeline import Pipeline

PAGE = 1000


def enc(key):
    return urllib.parse.quote(key, safe="")


def digest(value):
    return hashlib.blake2b(value, digest_size=16).digest()


def check(status, want, what):
    if status not in want:
        raise RuntimeError(f"{what}: HTTP {status}")


def bytes_of(s):
    return s.encode("utf-8", "surrogateescape")


class Mover:
    def __init__(self, front, old_nodes, new_node, names):
        self.front, self.old, self.new = front, old_nodes, new_node
        self.names = ",".join(names)
        self.conns = {}
        self.copied = {}  # key -> digest of the value copied in step 1
        self.owned = {}  # key -> old node addr, as found by catch_up (the keys that move)
        self.scanned = 0

    def conn(self, addr):
        if addr not in self.conns:
            self.conns[addr] = Pipeline(addr)
        return self.conns[addr]

    def close(self):
        for c in self.conns.values():
            c.close()

    def pages_of(self, addr):
        """Pages of (key, value) pairs of one node, in key order."""
        after = None
        while True:
            q = f"/?limit={PAGE}" + (f"&after={enc(after)}" if after is not None else "")
            (a,) = self.conn(addr).run([("GET", q, None, {"Accept": "application/json"})])
            check(a.status, (200,), f"listing {addr}")
            page = [(bytes_of(k), bytes_of(v)) for k, v in
                    json.loads(a.body.decode("utf-8", "surrogateescape")).items()]
            yield page
            if len(page) < PAGE:
                return
            after = page[-1][0]

    def owners(self, keys):
        req = ("POST", f"/_cluster/owners?nodes={self.names}", b"".join(k + b"\n" for k in keys), {})
        try:
            (a,) = self.conn(self.front).run([req])
        except ConnectionError:  # a reload closed our idle connection to the front
            self.conns.pop(self.front).close()
            (a,) = self.conn(self.front).run([req])
        check(a.status, (200,), "asking the front for owners")
        owners = a.body.decode().split("\n")[:-1]
        if len(owners) != len(keys):
            raise RuntimeError("the front answered a different number of owners")
        return owners

    def moving(self):
        """(old addr, [(key, listed value)]) per page, for the pairs the new node owns."""
        for node in self.old:
            for page in self.pages_of(node["addr"]):
                self.scanned += len(page)
                owners = self.owners([k for k, _ in page])
                yield node["addr"], [kv for kv, o in zip(page, owners) if o == self.new["name"]]

    def copy_keys(self, addr, keys):
        """GET from the old node (the value and its remaining TTL), PUT on the new one."""
        gets = self.conn(addr).run([("GET", "/kv/" + enc(k), None, {}) for k in keys])
        puts, found = [], []
        for k, a in zip(keys, gets):
            if a.status == 404:
                continue  # deleted or expired meanwhile
            check(a.status, (200,), f"reading {k!r} from {addr}")
            ttl = a.headers.get("x-expires-in")
            puts.append(("PUT", "/kv/" + enc(k) + (f"?ttl={ttl}" if ttl else ""), a.body, {}))
            found.append((k, a.body))
        for (k, value), a in zip(found, self.conn(self.new["addr"]).run(puts)):
            check(a.status, (201, 204), f"copying {k!r} to {self.new['name']}")
            self.copied[k] = digest(value)

    def copy(self):
        for addr, pairs in self.moving():
            self.copy_keys(addr, [k for k, _ in pairs])
        self.scanned_at_copy = self.scanned

    def catch_up(self):
        """The new node is frozen: nothing writes its keys anywhere while this runs."""
        self.scanned = 0
        for addr, pairs in self.moving():
            changed = [k for k, v in pairs if self.copied.get(k) != digest(v)]
            for k, _ in pairs:
                self.owned[k] = addr
            self.copy_keys(addr, changed)
        gone = [k for k in self.copied if k not in self.owned]  # deleted since the copy
        for k, a in zip(gone, self.conn(self.new["addr"]).run(
                [("DELETE", "/kv/" + enc(k), None, {}) for k in gone])):
            check(a.status, (204, 404), f"deleting {k!r} on {self.new['name']}")

    def drop_old(self):
        by_node = {}
        for k, addr in self.owned.items():
            by_node.setdefault(addr, []).append(k)
        for addr, keys in by_node.items():
            for k, a in zip(keys, self.conn(addr).run([("DELETE", "/kv/" + enc(k), None, {})
                                                       for k in keys])):
                check(a.status, (204, 404), f"deleting the old copy of {k!r}")

    @property
    def moved(self):
        return len(self.owned)
