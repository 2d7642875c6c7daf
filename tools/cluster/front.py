"""The HAProxy front of a cluster (tools/cluster.sh): its configuration, written from the
template deploy/haproxy/haproxy.cfg.in (the routing rules, one backend per node or shard, a
frozen or draining backend while add/remove moves keys), and starting and reloading it."""
import json
import os
import signal

import processes
import replication

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HAPROXY_DIR = os.path.join(REPO, "deploy", "haproxy")


def nodes_line(state, frozen, draining=None):
    return " ".join(n["name"] + ("(frozen)" if n["name"] == frozen else "")
                    + ("(draining)" if n["name"] == draining else "") for n in state["nodes"])


def node_backend(node, frozen, draining=None):
    """backend node_NAME: the node as its only server; a frozen node (receiving its keys during
    `add`) has no server and answers 503 + Retry-After itself; a draining one (giving its keys
    away during `remove`) answers the same but keeps its server, so the listing still reads it."""
    name = node["name"]
    if name == draining:
        return (f"\nbackend node_{name}\n"
                f"    http-request return status 503 content-type text/plain "
                f"string \"node {name} is giving its keys away (cluster.sh remove): retry\\n\" "
                f"hdr Retry-After 1\n"
                f"    server {name} {node['addr']}\n")
    if name == frozen:
        return (f"\nbackend node_{name}\n"
                f"    http-request return status 503 content-type text/plain "
                f"string \"node {name} is receiving its keys (cluster.sh add): retry\\n\" "
                f"hdr Retry-After 1\n")
    return (f"\nbackend node_{name}\n"
            f"    http-error status 503 content-type text/plain string "
            f"\"node {name} is unavailable\\n\"\n"
            f"    server {name} {node['addr']}\n")


def route_rules(nodes):
    """Rendezvous hashing in HAProxy's own rules: txn.node = the nK with the highest
    xxh32(txn.key, K); only a strictly higher score replaces, so ties stay with the lower K.
    Each score is computed once (one xxh32 of the key per node) and compared as an integer:
    no string matching, no pattern cache. A request without a key has no scores (the fetch
    of a missing variable fails, so its set-var does nothing) and use_backend skips it."""
    ranked = sorted(nodes, key=lambda n: int(n["name"][1:]))
    rule = "    http-request set-var(txn.{}) {}{}".format
    first, k0 = ranked[0]["name"], int(ranked[0]["name"][1:])
    rules = [rule("node", f"str({first})", ""), rule("best", f"var(txn.key),xxh32({k0})", "")]
    for i, n in enumerate(ranked[1:], 2):
        k, name = int(n["name"][1:]), n["name"]
        higher = " if { var(txn.score),sub(txn.best) gt 0 }"
        rules += [rule("score", f"var(txn.key),xxh32({k})", ""),
                  rule("node", f"str({name})", higher)]
        if i < len(ranked):  # the last node's score is never compared again
            rules.append(rule("best", "var(txn.score)", higher))
    return "\n".join(rules)


def write_config(d, state, frozen=None, draining=None):
    with open(os.path.join(HAPROXY_DIR, "haproxy.cfg.in")) as f:
        text = f.read()
    nodes = state["nodes"]
    servers = "\n".join(f"    server {n['name']} {n['addr']} check inter 1s" for n in nodes)
    if state.get("shards"):  # replicas: route to shards, one backend per shard
        words = replication.config_words(state, route_rules, frozen, draining)
    else:
        words = (("@NODES@", nodes_line(state, frozen, draining)), ("@SHARD_FRONT_RULES@", ""),
                 ("@BACKEND_PREFIX@", "node"),
                 ("@NODE_BACKENDS@", "".join(node_backend(n, frozen, draining) for n in nodes)),
                 ("@ROUTE_RULES@", route_rules(nodes)))
    with open(os.path.join(d, "options.json")) as f:
        threads = json.load(f).get("front_threads", 1)
    for name, value in (("@LUA_DIR@", HAPROXY_DIR), ("@FRONT@", state["front"]),
                        ("@FRONT_THREADS@", str(threads)),
                        ("@ANY_SERVERS@", servers)) + tuple(words):
        text = text.replace(name, value)
    path = os.path.join(d, "haproxy", "haproxy.cfg")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return path


def wait_front(state, frozen=None, timeout=15.0, draining=None):
    """Until the front's /healthz names exactly the nodes of state (a reload took effect)."""
    want = ("ok " + (replication.front_names(state, frozen, draining) if state.get("shards")
                     else nodes_line(state, frozen, draining)) + "\n").encode()
    processes.wait_until(lambda: processes.http_get(state["front"], "/healthz") == (200, want),
                         timeout, f"HAProxy on {state['front']} to route to every node")


def start_haproxy(d, state, haproxy):
    """Starts HAProxy (the binary `haproxy`, master-worker) on state["front"]; a port taken between choosing and
    binding it is replaced by another (three tries)."""
    log = os.path.join(d, "haproxy", "haproxy.log")
    for attempt in range(3):
        cfg = write_config(d, state)
        pid = processes.spawn([haproxy, "-W", "-f", cfg], log)
        state["haproxy_pid"] = pid
        try:
            processes.wait_until(lambda: not processes.alive(pid, "haproxy") or
                                 processes.http_get(state["front"], "/healthz")[0] == 200,
                                 15, f"HAProxy to answer on {state['front']}")
            if processes.alive(pid, "haproxy"):
                return wait_front(state)
        except RuntimeError as e:
            processes.stop(pid, "haproxy")
            raise RuntimeError(f"{e} (see {log})")
        state["front"] = f"127.0.0.1:{processes.free_port('127.0.0.1')}"
    raise RuntimeError(f"HAProxy did not start (see {log})")


def reload_haproxy(d, state, frozen=None, draining=None, wait_old=True):
    """New configuration, same master pid; returns once old workers (old routing) are gone
    (wait_old), else once the new one answers, with the old workers' pids."""
    master = state["haproxy_pid"]
    old_workers = processes.children(master)
    write_config(d, state, frozen, draining)
    # A USR2 that reaches the master while it is still starting up after the previous reload
    # is lost; send it again until the front answers with the new configuration (soon: the
    # freeze of `add` and `remove` lasts until then; a second reload does no harm).
    waits = (0.25, 0.5, 1, 2, 2, 2, 2, 2)
    for attempt, wait in enumerate(waits):
        os.kill(master, signal.SIGUSR2)
        try:
            wait_front(state, frozen, timeout=wait, draining=draining)
            break
        except RuntimeError as e:
            if attempt == len(waits) - 1:
                raise RuntimeError(f"{e}; last lines of {d}/haproxy/haproxy.log:\n"
                                   + processes.log_tail(os.path.join(d, "haproxy", "haproxy.log")))
    if wait_old:
        workers_gone(old_workers)
    return old_workers


def workers_gone(old_workers):
    processes.wait_until(lambda: not any(processes.alive(w, "haproxy") for w in old_workers),
                         15, "the old HAProxy workers to finish")
