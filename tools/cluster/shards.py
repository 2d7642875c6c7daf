"""cluster.sh add DIR and cluster.sh remove DIR SHARD on a cluster with replicas: a shard of 1+R
members joins, or a shard leaves, with the same bulk move as for single nodes (membership.py,
rebalance.py): copy while the old routing stands, catch up from the change feeds, freeze the
moving keys (503 + Retry-After), last catch-up, switch; README "Replication and failover".
Every member of a shard is told the placement as a node is (owners.py, membership.py).

Placement is over shard names sK (seed K, rendezvous, the front's rules). The mover reads from
and writes to each shard's primary: the member answering GET /primary 200 when the move starts
(a failover during the move breaks its connections: the move fails and rolls back; run it
again). Under --sync K a PUT on the receiving primary is acknowledged once K replicas hold it.

Names: shard sK is never given twice (cluster.json keeps "retired_shards"); its members take
node names from membership.next_number, so node names are never reused either."""
import base64
import json
import os
import re
import time
import urllib.request

import membership
import owners
import rebalance


def next_shard(state):
    used = list(state["shards"]) + state.get("retired_shards", [])
    return 1 + max((int(m.group(1)) for u in used if (m := re.fullmatch(r"s(\d+)", u))), default=0)


def primary_addrs(c, state, shards):
    """{shard: address of its primary} for the shards named, asked of the members; refuses
    (UsageError) when one of them has no single primary right now."""
    now = c.replication.primaries(state)
    addr = {n["name"]: n["addr"] for n in state["nodes"]}
    bad = {s: now[s] for s in shards if len(now[s]) != 1}
    if bad:
        raise c.UsageError("no single primary for " + ", ".join(
            f"{s} ({', '.join(p) or 'none'} answering GET /primary 200)" for s, p in bad.items())
            + ": a failover in progress or members down; try again once each shard has one")
    return {s: addr[now[s][0]] for s in shards}


def wait_shard(c, state, shard, timeout=30.0):
    """Until one member of shard answers GET /primary 200 and every other GET /replica 200 (it
    streams from the primary). Returns the primary's name."""
    addr = {n["name"]: n["addr"] for n in state["nodes"]}
    seen = {}

    def ready():
        members = state["shards"][shard]
        seen["primary"] = [m for m in members
                           if c.processes.http_get(addr[m], "/primary", 1.0)[0] == 200]
        seen["replica"] = [m for m in members
                           if c.processes.http_get(addr[m], "/replica", 1.0)[0] == 200]
        return len(seen["primary"]) == 1 and len(seen["replica"]) == len(members) - 1 \
            and not set(seen["primary"]) & set(seen["replica"])

    try:
        c.processes.wait_until(ready, timeout, f"{shard} to have a primary and streaming replicas")
    except RuntimeError as e:
        raise RuntimeError(f"{e}: primary {seen.get('primary')}, replicas {seen.get('replica')}")
    return seen["primary"][0]


def delete_etcd_keys(state, shard):
    """Deletes /httpkv/CLUSTER/SHARD/ in etcd (v3 JSON gateway): the leader, members and sync
    keys of a shard whose members are all stopped. Returns an error text, or None."""
    prefix = f"/httpkv/{state['cluster_name']}/{shard}/".encode()
    body = json.dumps({"key": base64.b64encode(prefix).decode(),
                       "range_end": base64.b64encode(prefix[:-1] + b"0").decode()}).encode()
    error = "no etcd endpoint"
    for ep in state["etcd"]["endpoints"]:
        try:
            req = urllib.request.Request(ep + "/v3/kv/deleterange", data=body, method="POST")
            with urllib.request.urlopen(req, timeout=5) as r:
                r.read()
            return None
        except OSError as e:
            error = f"{ep}: {e}"
    return error


def stop_members(c, state, names):
    binary = os.path.basename(c.server_bin())
    for n in state["nodes"]:
        if n["name"] in names:
            c.processes.stop(n["pid"], binary)
            n["pid"] = None


def cmd_add(c, d, state, opts):
    d = os.path.abspath(d)
    old_shards = list(state["shards"])
    sources = primary_addrs(c, state, old_shards)
    started = time.monotonic()
    shard = f"s{next_shard(state)}"
    old_names = owners.current(state)
    new_names = old_names + [shard]
    state["placement"] = owners.by_number(old_names)  # clients do not place keys on it yet
    state["shards"][shard] = []
    try:
        for _ in range(1 + opts["replicas"]):
            node = c.add_node(d, state, opts, shard)
            state["shards"][shard].append(node["name"])
            c.save(d, state)
        primary = wait_shard(c, state, shard)
    except (RuntimeError, OSError):
        roll_back_add(c, d, state, shard, reload=False)
        raise
    addrs = {n["name"]: n["addr"] for n in state["nodes"]}
    mover = rebalance.Mover(state["front"], [{"name": s, "addr": a} for s, a in sources.items()],
                            lambda s: [s, shard], {shard: addrs[primary]})

    def freeze():
        c.reload_haproxy(d, state, frozen=shard)
        owners.tell(state, old_names, new_names)  # 421 for the moving keys from now on
        state["placement"] = owners.by_number(new_names)
        c.save(d, state)

    def switch():
        owners.tell(state, [shard], new_names)
        return c.reload_haproxy(d, state, wait_old=False)

    try:
        try:
            owners.tell(state, [shard], new_names, old_names)  # its keys: 503 until done
            frozen, old_workers = membership.move(c, d, state, mover, freeze, switch)
        except (RuntimeError, OSError):
            roll_back_add(c, d, state, shard, old_names=old_names)
            raise
        copied = time.monotonic()  # the frozen workers answer 503: none reaches an old copy
        mover.drop_old(set(old_shards))
        dropped = f", old copies deleted in {time.monotonic() - copied:.2f}s"
    finally:
        mover.close()
    c.workers_gone(old_workers)
    membership.report(f"added shard {shard} ({', '.join(state['shards'][shard])}; primary "
                      f"{primary})", mover, started, frozen, dropped)


def roll_back_add(c, d, state, shard, reload=True, old_names=None):
    """add failed before the new shard went live: the old shards still hold every key (nothing
    was deleted); they own them again, route to them again, stop the new members, forget them
    (and their etcd keys)."""
    members = state["shards"].pop(shard)
    if old_names:
        membership.tell_back(state, old_names)
    state["placement"] = owners.by_number(list(state["shards"]))
    if reload:
        c.reload_haproxy(d, state)
    stop_members(c, state, members)
    state["nodes"] = [n for n in state["nodes"] if n["name"] not in members]
    c.save(d, state)
    delete_etcd_keys(state, shard)
    for m in members:
        c.shutil.rmtree(os.path.join(d, m), ignore_errors=True)
    print(f"cluster: add failed; rolled back to {len(state['shards'])} shards", file=c.sys.stderr)


def cmd_remove(c, d, state, name):
    if name not in state["shards"]:
        if any(n["name"] == name for n in state["nodes"]):
            raise c.UsageError(
                f"remove: {name} is a member of shard {c.node_of(state, name)['shard']}; with "
                f"replicas remove takes a shard (cluster.sh remove DIR sK: its keys move to the "
                f"other shards, then all its members stop). Removing one member of a shard is "
                f"another operation, not supported")
        raise c.UsageError(f"remove: no shard {name} (shards: {', '.join(state['shards'])})")
    if len(state["shards"]) < 2:
        raise c.UsageError("remove: the last shard holds every key; stop the cluster instead")
    d = os.path.abspath(d)
    rest = [s for s in state["shards"] if s != name]
    addrs = primary_addrs(c, state, list(state["shards"]))
    members = list(state["shards"][name])
    all_names = owners.current(state)
    rest_names = [s for s in all_names if s != name]
    before = {"shards": dict(state["shards"]), "nodes": list(state["nodes"]),
              "retired": list(state.get("retired", [])),
              "retired_shards": list(state.get("retired_shards", [])),
              "placement": owners.by_number(all_names)}
    started = time.monotonic()
    mover = rebalance.Mover(state["front"], [{"name": name, "addr": addrs[name]}],
                            lambda s: rest, {s: addrs[s] for s in rest})

    def freeze():
        c.reload_haproxy(d, state, draining=name)
        owners.tell(state, [name], rest_names, all_names)  # 421 for every key from now on
        state["placement"] = owners.by_number(rest_names)
        c.save(d, state)

    def switch():
        owners.tell(state, rest_names, rest_names)
        del state["shards"][name]
        state["nodes"] = [n for n in state["nodes"] if n["name"] not in members]
        state["retired"] = state.get("retired", []) + members
        state["retired_shards"] = state.get("retired_shards", []) + [name]
        old = c.reload_haproxy(d, state, wait_old=False)
        c.save(d, state)
        return old

    try:
        try:
            owners.tell(state, rest_names, rest_names, all_names)  # its keys: 503 on the others
            frozen, old_workers = membership.move(c, d, state, mover, freeze, switch)
        except (RuntimeError, OSError):
            state.update(before)  # the switch itself may have failed half-way
            membership.tell_back(state, all_names)
            c.reload_haproxy(d, state)
            c.save(d, state)
            mover.drop_copies()
            print(f"cluster: remove failed; {name} kept", file=c.sys.stderr)
            raise
    finally:
        mover.close()
    c.workers_gone(old_workers)
    stop_members(c, before, members)
    error = delete_etcd_keys(state, name)
    etcd = (f"; its etcd keys /httpkv/{state['cluster_name']}/{name}/ deleted" if error is None
            else f"; its etcd keys could not be deleted ({error}): they are unused")
    for m in members:
        os.replace(os.path.join(d, m), os.path.join(d, m + ".removed"))
    membership.report(f"removed shard {name} ({', '.join(members)})", mover, started, frozen,
                      f"; its members stopped, data dirs kept as {d}/nK.removed{etcd}")
