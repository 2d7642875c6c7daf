"""cluster.sh add DIR and cluster.sh remove DIR NODE: a node joins or leaves a running cluster
without replicas (with replicas a whole shard joins or leaves: shards.py, same move), its keys
moved in bulk (rebalance.py) while the old routing stands; only the moving keys answer 503, and
only for the last writes' catch-up (README "Several nodes").

The nodes enforce it too (owners.py, PUT /admin/placement), so a cluster-aware client with a
stale map cannot have a write acknowledged and then lost: the node receiving keys refuses them
(503) until the move ends; at the freeze the nodes giving keys away start answering 421 +
X-Owner for them, and cluster.json's "placement" changes; at the switch the receiver serves.

`c` is the cluster module (cluster.py): state files, node processes, HAProxy configuration.

Names: node nK is placed with seed K (and listens on 127.0.0.(K+1)), so a name is never given
twice: cluster.json keeps "retired" (removed names) and a new node is n(1 + the highest number
ever used)."""
import os
import re
import sys
import time

import owners
import rebalance
import shards

ROUNDS = 5  # unfrozen catch-up rounds at most; stops earlier once a round is short
SHORT = 1000  # keys copied again in a round under which the freeze is short enough


def next_number(state):
    used = [n["name"] for n in state["nodes"]] + state.get("retired", [])
    return 1 + max((int(m.group(1)) for u in used if (m := re.fullmatch(r"n(\d+)", u))),
                   default=0)


def catch_up_unfrozen(mover):
    for _ in range(ROUNDS):
        if mover.catch_up() < SHORT:
            return


def move(c, d, state, mover, freeze, switch):
    """Copy, catch up, freeze (freeze()), last catch-up, switch (switch()). Returns the freeze
    in seconds (from the reload that freezes to the moment the front routes the new way) and
    the pids of the HAProxy workers still running the frozen configuration."""
    t0 = time.monotonic()
    mover.copy()
    t1 = time.monotonic()
    catch_up_unfrozen(mover)
    frozen_at = time.monotonic()
    mover.phases = f"copy {t1 - t0:.2f}s, catch-up {frozen_at - t1:.2f}s"
    freeze()  # returns once no old worker can route a moving key to its old node
    mover.catch_up()
    old_workers = switch()
    return time.monotonic() - frozen_at, old_workers


def report(verb, mover, started, frozen, dropped):
    took = time.monotonic() - started
    rate = mover.count / took if took > 0 else 0
    print(f"cluster: {verb}; moved {mover.count} of {mover.scanned} keys in {took:.2f}s "
          f"({rate:.0f} keys/s); its keys answered 503 for {frozen:.2f}s"
          f" ({mover.phases}{dropped})")


def cmd_add(c, d, args):
    state, opts = c.load(d)
    if state.get("shards"):  # replicas: a whole shard joins (shards.py)
        return shards.cmd_add(c, d, state, opts)
    d = os.path.abspath(d)
    old_nodes = [dict(n) for n in state["nodes"]]
    old_names = owners.current(state)
    started = time.monotonic()
    new = c.add_node(d, state, opts)
    new_names = old_names + [new["name"]]
    state["placement"] = owners.by_number(old_names)  # clients do not place keys on it yet
    c.save(d, state)
    addrs = {n["name"]: n["addr"] for n in state["nodes"]}
    mover = rebalance.Mover(state["front"], old_nodes, lambda s: [s, new["name"]], addrs)

    def freeze():
        c.reload_haproxy(d, state, frozen=new["name"])
        owners.tell(state, old_names, new_names)  # 421 for the moving keys from now on
        state["placement"] = owners.by_number(new_names)
        c.save(d, state)

    def switch():
        owners.tell(state, [new["name"]], new_names)
        return c.reload_haproxy(d, state, wait_old=False)

    try:
        try:
            owners.tell(state, [new["name"]], new_names, old_names)  # its keys: 503 until done
            frozen, old_workers = move(c, d, state, mover, freeze, switch)
        except (RuntimeError, OSError):
            roll_back_add(c, d, state, new, old_names)
            raise
        copied = time.monotonic()  # the frozen workers answer 503: none reaches an old copy
        mover.drop_old({n["name"] for n in old_nodes})
        dropped = f", old copies deleted in {time.monotonic() - copied:.2f}s"
    finally:
        mover.close()
    c.workers_gone(old_workers)
    report(f"added {new['name']} on {new['addr']}", mover, started, frozen, dropped)


def tell_back(state, names):
    """A failed move: every node of `names` owns its keys as before (best effort: a node that
    does not answer keeps refusing some keys, and is named)."""
    try:
        owners.settle(state, names)
    except RuntimeError as e:
        print(f"cluster: {e}: re-run `cluster.sh start` or tell it by hand (README)",
              file=sys.stderr)
    state["placement"] = owners.by_number(names)


def roll_back_add(c, d, state, new, old_names):
    """add failed before the new node went live: the old nodes still hold every key (nothing
    was deleted); they own them again, route to them again and stop the new node."""
    state["nodes"].remove(new)
    tell_back(state, old_names)
    c.reload_haproxy(d, state)
    c.processes.stop(new["pid"], os.path.basename(c.server_bin()))
    c.save(d, state)
    c.shutil.rmtree(os.path.join(d, new["name"]), ignore_errors=True)
    print(f"cluster: add failed; rolled back to {len(state['nodes'])} nodes", file=c.sys.stderr)


def cmd_remove(c, d, args):
    state, _ = c.load(d)
    if state.get("shards"):  # replicas: a whole shard leaves (shards.py)
        return shards.cmd_remove(c, d, state, args[0])
    node = c.node_of(state, args[0])
    if len(state["nodes"]) < 2:
        raise c.UsageError("remove: the last node holds every key; stop the cluster instead")
    name = os.path.basename(c.server_bin())
    down = [n["name"] for n in state["nodes"] if not c.processes.alive(n["pid"], name)]
    if down:
        raise c.UsageError(f"remove: {', '.join(down)} not running (restart it first)")
    d = os.path.abspath(d)
    started = time.monotonic()
    rest = [n for n in state["nodes"] if n is not node]
    addrs = {n["name"]: n["addr"] for n in rest}
    mover = rebalance.Mover(state["front"], [node], lambda s: list(addrs), addrs)
    all_names = owners.current(state)
    rest_names = [x for x in all_names if x != node["name"]]

    def freeze():
        c.reload_haproxy(d, state, draining=node["name"])
        owners.tell(state, [node["name"]], rest_names, all_names)  # 421 for every key from now on
        state["placement"] = owners.by_number(rest_names)
        c.save(d, state)

    def switch():
        owners.tell(state, rest_names, rest_names)
        state["nodes"] = rest
        state.setdefault("retired", []).append(node["name"])
        old = c.reload_haproxy(d, state, wait_old=False)
        c.save(d, state)
        return old

    try:
        try:
            owners.tell(state, rest_names, rest_names, all_names)  # its keys: 503 on the others
            frozen, old_workers = move(c, d, state, mover, freeze, switch)
        except (RuntimeError, OSError):
            roll_back_remove(c, d, state, node, mover, all_names)
            raise
    finally:
        mover.close()
    c.workers_gone(old_workers)
    c.processes.stop(node["pid"], name)
    os.replace(os.path.join(d, node["name"]), os.path.join(d, node["name"] + ".removed"))
    report(f"removed {node['name']}", mover, started, frozen,
           f"; its data dir is kept as {d}/{node['name']}.removed")


def roll_back_remove(c, d, state, node, mover, all_names):
    """remove failed before the switch: the node still holds every key of its own; it owns them
    again, route to it again and delete the copies made on the other nodes."""
    if node not in state["nodes"]:  # the switch itself failed half-way
        state["nodes"] = sorted(state["nodes"] + [node], key=lambda n: int(n["name"][1:]))
        state["retired"].remove(node["name"])
    tell_back(state, all_names)
    c.reload_haproxy(d, state)
    c.save(d, state)
    mover.drop_copies()
    print(f"cluster: remove failed; {node['name']} kept", file=c.sys.stderr)
