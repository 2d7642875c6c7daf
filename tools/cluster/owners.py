"""The placement every node checks keyed requests against (PUT /admin/placement; README
"Several nodes"): a node answers 421 + X-Owner for another owner's key, and 503 for a key still
being moved to it. cluster.sh gives it to every node at start and changes it during add and
remove (membership.py, shards.py); cluster.json's "placement" is the owner list cluster-aware
clients place keys over (a node that is joining is in "nodes" but not yet in "placement").

Owners are node names nK, or shard names sK with replicas (every member of a shard is told)."""
import json
import re

from pipeline import Pipeline


def by_number(names):
    return sorted(names, key=lambda n: int(re.sub(r"\D", "", n)))


def current(state):
    """The owner names keys are placed over now."""
    if "placement" in state:
        return list(state["placement"])
    return list(state["shards"]) if state.get("shards") else [n["name"] for n in state["nodes"]]


def member_addrs(state, owner):
    names = state["shards"][owner] if state.get("shards") else [owner]
    return [n["addr"] for n in state["nodes"] if n["name"] in names]


def tell(state, who, now, before=None):
    """PUT /admin/placement on every member of each owner in `who`: {"owners": now, "before":
    before (a move into these owners is in progress), "self": owner}. A member that does not
    take it (down, or refusing) fails the whole step: RuntimeError, the caller rolls back."""
    for owner in who:
        doc = {"owners": by_number(now), "self": owner}
        if before:
            doc["before"] = by_number(before)
        body = json.dumps(doc).encode()
        for addr in member_addrs(state, owner):
            try:
                conn = Pipeline(addr, timeout=15)
                try:
                    (a,) = conn.run([("PUT", "/admin/placement", body, {})])
                finally:
                    conn.close()
            except OSError as e:
                raise RuntimeError(f"telling {owner} ({addr}) its placement: {e}") from e
            if a.status != 204:
                raise RuntimeError(f"telling {owner} ({addr}) its placement: HTTP {a.status} "
                                   f"{a.body.decode(errors='replace').strip()}")


def settle(state, now):
    """Every owner of `now` told it (no move in progress), and cluster.json's list set."""
    tell(state, now, now)
    state["placement"] = by_number(now)
