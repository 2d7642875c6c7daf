"""Moves the keys a new node now owns from the old nodes to it (cluster.sh add).

Placement is asked of the front (POST /_cluster/owners?nodes=...), which runs the router's own
Lua function (deploy/haproxy/placement.lua): one definition, no copy to drift.

  1. copy: list every old node (JSON pages); for each key the new node owns, GET it from its
     old node and PUT it on the new node (If-None-Match: *). The front still routes to the
     old nodes: clients read and write the old copy.
  2. (cluster.py) reload HAProxy with the new node; wait until the old workers are gone, so
     no request reaches an old node for a moved key any more.
  3. finish: list the old nodes again; per key the new node owns, re-read the old copy; if a
     client changed it between its copy and the switch, carry that change over (PUT If-Match
     the copy's ETag: a client's write to the new node after the switch wins); a key created
     after step 1 listed its node is copied now (If-None-Match: *); then DELETE the old copy.
"""
import http.client
import json
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

PAGE = 1000
WORKERS = 8


def enc(key):
    return urllib.parse.quote(key, safe="")


class Conn:
    """One keep-alive connection per (thread, address)."""
    local = threading.local()

    @classmethod
    def request(cls, addr, method, path, body=None, headers=None):
        pool = cls.local.__dict__.setdefault("pool", {})
        for attempt in (0, 1):
            conn = pool.get(addr)
            if conn is None:
                host, port = addr.rsplit(":", 1)
                conn = pool[addr] = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                return resp.status, resp.read(), resp
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                del pool[addr]
                if attempt:
                    raise


def check(status, want, what):
    if status not in want:
        raise RuntimeError(f"{what}: HTTP {status}")


class Mover:
    def __init__(self, front, old_nodes, new_node, names):
        self.front, self.old, self.new = front, old_nodes, new_node
        self.names = ",".join(names)
        self.copied = {}  # key bytes -> (ETag on the old node, ETag of the copy)
        self.seen = set()  # keys found on the old nodes by finish()
        self.scanned = 0
        self.moved = 0
        self.lock = threading.Lock()

    def keys_of(self, addr):
        after = None
        while True:
            q = f"/?limit={PAGE}" + (f"&after={enc(after)}" if after is not None else "")
            status, body, _ = Conn.request(addr, "GET", q, headers={"Accept": "application/json"})
            check(status, (200,), f"listing {addr}")
            keys = [k.encode("utf-8", "surrogateescape") for k in
                    json.loads(body.decode("utf-8", "surrogateescape"))]
            yield keys
            if len(keys) < PAGE:
                return
            after = keys[-1]

    def owners(self, keys):
        status, body, _ = Conn.request(self.front, "POST", f"/_cluster/owners?nodes={self.names}",
                                       body=b"".join(k + b"\n" for k in keys))
        check(status, (200,), "asking the front for owners")
        owners = body.decode().split("\n")[:-1]
        if len(owners) != len(keys):
            raise RuntimeError("the front answered a different number of owners")
        return owners

    def copy_one(self, addr, key):
        path = "/kv/" + enc(key)
        status, value, resp = Conn.request(addr, "GET", path)
        if status == 404:
            return  # deleted meanwhile
        check(status, (200,), f"reading {key!r} from {addr}")
        old_etag = resp.getheader("ETag")
        ttl = resp.getheader("X-Expires-In")
        status, _, presp = Conn.request(self.new["addr"], "PUT", path + (f"?ttl={ttl}" if ttl else ""),
                                        body=value, headers={"If-None-Match": "*"})
        if status == 412:  # already there (a write through the front got there first)
            return
        check(status, (201,), f"copying {key!r} to {self.new['name']}")
        with self.lock:
            self.copied[key] = (old_etag, presp.getheader("ETag"))

    def for_each_key_to_move(self, fn, count=False):
        with ThreadPoolExecutor(WORKERS) as pool:
            for node in self.old:
                for keys in self.keys_of(node["addr"]):
                    if count:
                        self.scanned += len(keys)
                    mine = [k for k, o in zip(keys, self.owners(keys)) if o == self.new["name"]]
                    for f in [pool.submit(fn, node["addr"], k) for k in mine]:
                        f.result()

    def copy(self):
        self.for_each_key_to_move(self.copy_one, count=True)

    def finish_one(self, addr, key, move):
        path = "/kv/" + enc(key)
        if move is None:  # created on the old node after its listing in copy(), before the switch
            self.copy_one(addr, key)
            move = self.copied.get(key)
        with self.lock:
            self.seen.add(key)
        status, value, resp = Conn.request(addr, "GET", path)
        if move and status == 200 and resp.getheader("ETag") != move[0]:
            status, _, _ = Conn.request(self.new["addr"], "PUT", path, body=value,
                                        headers={"If-Match": move[1]})
            check(status, (204, 412), f"carrying a late write of {key!r} over")
        elif move and status == 404:
            self.undo_copy(key, move)
        status, _, _ = Conn.request(addr, "DELETE", path)
        check(status, (204, 404), f"deleting the old copy of {key!r}")
        with self.lock:
            self.moved += 1

    def undo_copy(self, key, move):
        """A client deleted the key on its old node after the copy: delete the copy too,
        unless a client wrote it on the new node since."""
        path = "/kv/" + enc(key)
        status, _, resp = Conn.request(self.new["addr"], "GET", path)
        if status == 200 and resp.getheader("ETag") == move[1]:
            Conn.request(self.new["addr"], "DELETE", path)

    def finish(self):
        """After the switch: the old nodes get no more writes for the new node's keys."""
        self.for_each_key_to_move(lambda addr, key: self.finish_one(addr, key, self.copied.get(key)))
        for key, move in self.copied.items():
            if key not in self.seen:
                self.undo_copy(key, move)
