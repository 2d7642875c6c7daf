"""Moves keys between nodes whose placement changed (cluster.sh add and remove).

A key on node S moves when its owner over the new node list (`names`) is not S. Placement is
asked of the front (POST /_cluster/owners?nodes=..., 10,000 keys a request), which runs the
router's own converter (deploy/haproxy/placement.lua): one definition, no copy to drift.

  1. copy (the front still routes to the old owners; clients see nothing): each source node
     is listed in pages of 10,000 pairs with values and remaining TTLs (GET /?ttls=1, JSON;
     SEQ0 = the first page's X-Seq), the moving pairs are PUT, pipelined, on their new owners
     (?ttl= when they have one).
  2. catch_up: each source's change feed from SEQ0 (feed.py) is read up to the source's
     current SEQ; each moving key it names is read again from the source (GET: value and
     X-Expires-In) and PUT on its new owner, or DELETEd there when it is gone. Repeated while
     unfrozen until a round is short, then once more (final) after cluster.py froze the moving
     keys: no write reaches them any more, so the copies are exact.
  3. drop_old (after the switch): DELETE the moved keys from the sources still in service.
"""
import json
import queue
import threading
import urllib.parse

from feed import Feed
from pipeline import Pipeline

PAGE = 10000


def enc(key):
    return urllib.parse.quote(key, safe="")


def check(statuses, want, what):
    bad = [s for s in statuses if s not in want]
    if bad:
        raise RuntimeError(f"{what}: HTTP {bad[0]} ({len(bad)} answers)")


def bytes_of(s):
    return s.encode("utf-8", "surrogateescape")


def parse_page(body):
    """JSON listing with ?ttls=1 -> [(key, value or [value, ttl])], as str (surrogateescape:
    any bytes); only the pairs that move are turned into bytes (triple)."""
    return list(json.loads(body.decode("utf-8", "surrogateescape")).items())


def triple(k, v):
    """A parsed listing pair -> (key, value, ttl seconds or None), bytes."""
    if isinstance(v, list):
        return bytes_of(k), bytes_of(v[0]), v[1]
    return bytes_of(k), bytes_of(v), None


def groups(source, owners):
    """{owner: [index]} of the keys whose owner is not source (they move)."""
    out = {}
    for i, o in enumerate(owners):
        if o != source:
            out.setdefault(o, []).append(i)
    return out


def stage(fn, inq, outq):
    """A thread: outq.put(fn(item)) for each item of inq until None; an exception is passed
    on as the item, and ends the stage."""
    def run():
        while True:
            item = inq.get()
            if item is None or isinstance(item, BaseException):
                return outq.put(item)
            try:
                outq.put(fn(item))
            except BaseException as e:  # noqa: BLE001 - raised again by the last stage
                return outq.put(e)
    threading.Thread(target=run, daemon=True).start()


class Mover:
    """sources: the nodes keys move from; names_of(source name): the node list to place its
    keys over after the change; addrs: name -> addr of every node a key may move to.

    For add, names_of(nJ) is [nJ, new]: a key on nJ is owned by nJ among the old nodes, so its
    owner over all nodes is the new one exactly when it is over these two (rendezvous), and the
    front hashes it twice instead of N+1 times."""

    def __init__(self, front, sources, names_of, addrs):
        self.front, self.sources, self.addrs = front, sources, addrs
        self.names_of = names_of
        self.conns, self.feeds, self.since = {}, {}, {}
        self.moved = {s["name"]: {} for s in sources}  # source -> {key: owner it was copied to}
        self.scanned = 0

    def conn(self, addr):
        if addr not in self.conns:
            self.conns[addr] = Pipeline(addr)
        return self.conns[addr]

    def close(self):
        for c in list(self.conns.values()) + list(self.feeds.values()):
            c.close()

    @property
    def count(self):
        return sum(len(keys) for keys in self.moved.values())

    def owners_str(self, source, keys):
        """owners() of str keys (surrogateescape), without turning each into bytes."""
        return self._ask_owners(source, keys, ("\n".join(keys) + "\n").encode(
            "utf-8", "surrogateescape"))

    def owners(self, source, keys):
        """Owners of source's keys over names_of(source), one key a line (a key never holds a
        newline: the server refuses one)."""
        return self._ask_owners(source, keys, b"".join(k + b"\n" for k in keys))

    def _ask_owners(self, source, keys, body):
        if not keys:
            return []
        names = ",".join(self.names_of(source))
        req = ("POST", f"/_cluster/owners?nodes={names}", body, {})
        try:
            (a,) = self.conn(self.front).run([req])
        except ConnectionError:  # a reload closed our idle connection to the front
            self.conns.pop(self.front).close()
            (a,) = self.conn(self.front).run([req])
        if a.status != 200:
            raise RuntimeError(f"asking the front for owners: HTTP {a.status}")
        owners = a.body.decode().split("\n")[:-1]
        if len(owners) != len(keys):
            raise RuntimeError("the front answered a different number of owners")
        return owners

    def pages(self, addr):
        """(X-Seq, [(key, value, ttl)]) per page of one node, in key order."""
        after = None
        while True:
            q = f"/?ttls=1&limit={PAGE}" + (f"&after={enc(after)}" if after is not None else "")
            (a,) = self.conn(addr).run([("GET", q, None, {"Accept": "application/json"})])
            if a.status != 200:
                raise RuntimeError(f"listing {addr}: HTTP {a.status}")
            page = parse_page(a.body)
            yield int(a.headers["x-seq"]), page
            if len(page) < PAGE:
                return
            after = bytes_of(page[-1][0])

    def put_all(self, source, by_owner):
        """PUTs each (key, value, ttl or None) of by_owner[o] on owner o."""
        for o, items in by_owner.items():
            c = self.conn(self.addrs[o])
            reqs = [c.request("PUT", "/kv/" + enc(k) + (f"?ttl={ttl}" if ttl else ""), v)
                    for k, v, ttl in items]
            check(c.statuses(reqs), (201, 204), f"copying to {o}")
            self.moved[source].update((k, o) for k, _, _ in items)

    def delete_all(self, addr, keys, what):
        c = self.conn(addr)
        check(c.statuses([c.request("DELETE", "/kv/" + enc(k)) for k in keys]), (204, 404), what)

    def _list(self, q):
        """Every source's pages into q: (source, page), then None (or the exception)."""
        try:
            for s in self.sources:
                for i, (seq, page) in enumerate(self.pages(s["addr"])):
                    if i == 0:
                        self.since[s["name"]] = seq
                    q.put((s["name"], page))
            q.put(None)
        except BaseException as e:  # noqa: BLE001 - raised again by copy()
            q.put(e)

    def _place(self, item):
        source, page = item
        return source, page, groups(source, self.owners_str(source, [k for k, _ in page]))

    def copy(self):
        """Three stages in threads, so that listing, placement (the front) and loading (the
        new owners) overlap: list -> place -> PUT (this thread)."""
        listed, placed = queue.Queue(maxsize=2), queue.Queue(maxsize=2)
        threading.Thread(target=self._list, args=(listed,), daemon=True).start()
        stage(self._place, listed, placed)
        while (item := placed.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            source, page, moving = item
            self.scanned += len(page)
            self.put_all(source, {o: [triple(*page[i]) for i in idx] for o, idx in moving.items()})

    def current_seq(self, addr):
        (a,) = self.conn(addr).run([("GET", "/?limit=0", None, {"Accept": "application/json"})])
        if a.status != 200:
            raise RuntimeError(f"SEQ of {addr}: HTTP {a.status}")
        return int(a.headers["x-seq"])

    def catch_up(self):
        """One round: each source's feed up to its current SEQ. Returns the keys copied again."""
        count = 0
        for s in self.sources:
            name, addr = s["name"], s["addr"]
            if name not in self.feeds:
                self.feeds[name] = Feed(addr, self.since[name])
            events = self.feeds[name].read_until(self.current_seq(addr))
            count += self.recopy(name, addr, list(dict.fromkeys(k for _, _, k in events)))
        return count

    def recopy(self, source, addr, keys):
        """Reads the moving keys again from source: PUT on their owner, or DELETE if gone."""
        moving = groups(source, self.owners(source, keys))
        for o, idx in moving.items():
            ks = [keys[i] for i in idx]
            gets = self.conn(addr).run([("GET", "/kv/" + enc(k), None, {}) for k in ks])
            found = [(k, a.body, a.headers.get("x-expires-in"))
                     for k, a in zip(ks, gets) if a.status == 200]
            check([a.status for a in gets], (200, 404), f"reading again from {source}")
            gone = [k for k, a in zip(ks, gets) if a.status == 404]
            self.put_all(source, {o: found})
            self.delete_all(self.addrs[o], gone, f"deleting on {o}")
            for k in gone:
                self.moved[source].pop(k, None)
        return sum(len(idx) for idx in moving.values())

    def drop_copies(self):
        """Undoes the copies (a remove that failed): DELETEs them on the owners they went to."""
        for moved in self.moved.values():
            by_owner = {}
            for k, o in moved.items():
                by_owner.setdefault(o, []).append(k)
            for o, keys in by_owner.items():
                self.delete_all(self.addrs[o], keys, f"deleting copies on {o}")

    def drop_old(self, names):
        """DELETEs the moved keys from the sources named (those still in service)."""
        for s in self.sources:
            if s["name"] in names:
                self.delete_all(s["addr"], sorted(self.moved[s["name"]]),
                                f"deleting old copies on {s['name']}")
