"""tools/cluster.sh: several httpkv nodes behind HAProxy (see README "Several nodes").

    cluster.sh start DIR [--nodes N] [--fsync POLICY] [--threads T] [--front-threads T]
                     [--auth-file FILE]
                     [--replicas R [--sync K] [--etcd-members 1|3]
                      [--leader-ttl S] [--loop-wait S] [--retry-timeout S]]
    cluster.sh kill DIR NAME | restart DIR NAME | add DIR | remove DIR NAME | stop DIR
      NAME: a node (n1, n2, ...) or, with replicas, an etcd member (etcd1, ...);
      add: one more node, moving the keys it now owns; remove DIR NODE: moves NODE's keys to
      their new owners, then takes it out; names are never reused.
      With replicas, add: one more shard of 1+R members, moving the keys it now owns from the
      other shards' primaries; remove DIR SHARD (s1, s2, ...; not a node): moves the shard's
      keys to the other shards, then stops all its members.

State: DIR/cluster.json (the SPEC's keys: front, haproxy_pid, nodes[name, addr, pid,
data_dir]; pids are null once stopped or killed; "placement": the owners keys are placed over,
which every node also knows, owners.py) and DIR/options.json (flags the nodes were
started with). `start` on a stopped DIR starts afresh on the same data dirs. Node nK listens on
127.0.0.(K+1) with a port chosen at its first start and kept across restarts.

With --replicas R >= 1 (see SPEC "Replication and failover"; replication.py): N shards s1..sN
of 1+R nodes each (s1 = n1..n(1+R), s2 = the next 1+R, ...), etcd (1 or 3 members on loopback,
data in DIR/etcd/) elects each shard's primary, HAProxy has one backend per shard (health check
GET /primary). cluster.json adds "shard" to each node, "shards", "etcd", "cluster_name",
"replicas" and "sync".
"""
import json
import os
import shutil
import signal
import sys

import membership
import owners
# reload_haproxy and workers_gone: for membership.py and shards.py, which take this module.
from front import reload_haproxy, start_haproxy, workers_gone  # noqa: F401
import pipeline
import processes
import replication

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USAGE = __doc__.split("\n\n")[1]


class UsageError(Exception):
    pass


def server_bin():
    path = os.path.join(os.environ.get("HTTPKV_BIN_DIR", os.path.join(REPO, "build", "bin")),
                        "httpkv-server")
    if not os.access(path, os.X_OK):
        raise UsageError(f"missing {path} (build it, or set HTTPKV_BIN_DIR)")
    return path


def haproxy_bin():
    path = shutil.which("haproxy")
    if not path:
        raise UsageError("haproxy not found: install the Debian package haproxy "
                         "(scripts/install-deps.sh test)")
    return path


def load(d):
    try:
        with open(os.path.join(d, "cluster.json")) as f:
            state = json.load(f)
        with open(os.path.join(d, "options.json")) as f:
            opts = json.load(f)
    except FileNotFoundError:
        raise UsageError(f"no cluster in {d} (run: cluster.sh start {d})")
    if opts.get("auth_file"):
        pipeline.use_token_file(opts["auth_file"])
    return state, opts


def save(d, state):
    tmp = os.path.join(d, "cluster.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(d, "cluster.json"))


def node_of(state, name):
    for n in state["nodes"]:
        if n["name"] == name:
            return n
    raise UsageError(f"no node {name} (nodes: {', '.join(n['name'] for n in state['nodes'])})")


def start_node(d, node, opts, addr, state=None):
    extra = ["--fsync", opts["fsync"], "--threads", str(opts["threads"])]
    if opts.get("auth_file"):  # every node (and every member of a shard) shares one token file
        extra += ["--auth-file", opts["auth_file"]]
    log = os.path.join(d, node["name"], "server.log")
    if opts.get("replicas"):
        node["pid"], node["addr"] = replication.start_member(server_bin(), node, opts, state,
                                                             extra, log, addr)
        return
    node["pid"], node["addr"] = processes.start_node(server_bin(), addr, node["data_dir"], log, extra)


def running(state, _opts=None):
    """True if any process of the cluster in state still runs."""
    name = os.path.basename(server_bin())
    return processes.alive(state.get("haproxy_pid"), "haproxy") or any(
        processes.alive(n["pid"], name) for n in state["nodes"]) or replication.etcd_running(state)


def cmd_start(d, args):
    opts = {"fsync": "everysec", "threads": 1}
    count = 3
    while args:
        flag = args.pop(0)
        if flag not in ("--nodes", "--fsync", "--threads", "--front-threads", "--auth-file") \
                + replication.START_FLAGS or not args:
            raise UsageError(f"unknown or incomplete flag {flag}")
        value = args.pop(0)
        if flag == "--auth-file":
            if not os.path.isfile(value):
                raise UsageError(f"--auth-file {value}: no such file")
            opts["auth_file"] = os.path.abspath(value)
        elif flag in replication.START_FLAGS:
            replication.parse_flag(opts, flag, value, UsageError)
        elif flag == "--fsync":
            if value not in ("always", "everysec", "never"):
                raise UsageError("--fsync must be always, everysec or never")
            opts["fsync"] = value
        elif not value.isdigit() or not 1 <= int(value) <= 250:
            raise UsageError(f"{flag} must be an integer from 1 to 250")
        elif flag == "--nodes":
            count = int(value)
        elif flag == "--front-threads":
            opts["front_threads"] = int(value)
        else:
            opts["threads"] = int(value)
    replication.check_opts(opts, UsageError)
    if opts.get("auth_file"):  # cluster.sh tells each node its placement, as an admin
        try:
            pipeline.use_token_file(opts["auth_file"])
        except RuntimeError as e:
            raise UsageError(f"--auth-file: {e}")
    previous = None
    if os.path.exists(os.path.join(d, "cluster.json")):
        previous = load(d)[0]
        if running(previous):
            raise UsageError(f"{d} holds a running cluster (cluster.sh stop {d} first, or another DIR)")
        if previous.get("etcd") or opts.get("replicas"):
            replication.check_previous(previous, opts, count, UsageError)
    haproxy_bin()
    if opts.get("replicas"):
        replication.etcd_bin(UsageError)
    os.makedirs(os.path.join(d, "haproxy"), exist_ok=True)
    d = os.path.abspath(d)
    with open(os.path.join(d, "options.json"), "w") as f:
        json.dump(opts, f)
    state = {"front": f"127.0.0.1:{processes.free_port('127.0.0.1')}", "haproxy_pid": None,
             "nodes": []}
    try:
        if opts.get("replicas"):
            replication.start(d, state, opts, count, previous, add_node, UsageError)
            owners.settle(state, owners.current(state))
            start_haproxy(d, state, haproxy_bin())
            replication.wait_primaries(d, state)
        else:
            for i in range(1, count + 1):
                add_node(d, state, opts)
            owners.settle(state, owners.current(state))
            start_haproxy(d, state, haproxy_bin())
    finally:
        save(d, state)
    if opts.get("replicas"):
        print(f"cluster: front {state['front']}, {count} shards of {1 + opts['replicas']} nodes "
              f"(sync {opts['sync']}), etcd {' '.join(state['etcd']['endpoints'])}, "
              f"state in {d}/cluster.json")
    else:
        print(f"cluster: front {state['front']}, {count} nodes, state in {d}/cluster.json")


def add_node(d, state, opts, shard=None, addr=None):
    i = membership.next_number(state)
    node = {"name": f"n{i}", "addr": None, "pid": None,
            "data_dir": os.path.join(d, f"n{i}", "data")}
    if shard:
        node["shard"] = shard
    os.makedirs(os.path.join(d, node["name"]), exist_ok=True)
    state["nodes"].append(node)
    start_node(d, node, opts, addr or f"127.0.0.{i + 1}:0", state)
    return node


def cmd_kill(d, args):
    state, opts = load(d)
    if replication.is_etcd_name(state, args[0]):
        replication.kill_etcd(state, args[0], UsageError)
        save(d, state)
        print(f"cluster: killed {args[0]}")
        return
    node = node_of(state, args[0])
    name = os.path.basename(server_bin())
    if processes.alive(node["pid"], name):
        os.kill(node["pid"], signal.SIGKILL)
        processes.wait_until(lambda: not processes.alive(node["pid"], name), 5, "the node to die")
    node["pid"] = None
    save(d, state)
    print(f"cluster: killed {node['name']} ({node['addr']})")


def cmd_restart(d, args):
    state, opts = load(d)
    if replication.is_etcd_name(state, args[0]):
        replication.restart_etcd(d, state, args[0], UsageError)
        save(d, state)
        print(f"cluster: {args[0]} back on {replication.etcd_member(state, args[0])['client']}")
        return
    node = node_of(state, args[0])
    processes.stop(node["pid"], os.path.basename(server_bin()))
    start_node(d, node, opts, node["addr"], state)
    save(d, state)
    print(f"cluster: {node['name']} back on {node['addr']}")


def cmd_stop(d, args):
    try:
        state, _ = load(d)
    except UsageError:
        print(f"cluster: nothing to stop in {d}")
        return
    master = state.get("haproxy_pid")
    workers = processes.children(master) if processes.alive(master, "haproxy") else []
    processes.stop(master, "haproxy")
    for w in workers:
        processes.stop(w, "haproxy", signal.SIGKILL)
    name = os.path.basename(server_bin())
    pids = [(master, "haproxy")] + [(w, "haproxy") for w in workers]
    for node in state["nodes"]:
        pids.append((node["pid"], name))
        processes.stop(node["pid"], name)
        node["pid"] = None
    state["haproxy_pid"] = None
    pids += replication.stop_etcd(state)
    save(d, state)
    left = [pid for pid, comm in pids if processes.alive(pid, comm)]
    if left:
        raise RuntimeError(f"processes still running after stop: {left}")
    if state.get("etcd"):
        print(f"cluster: stopped {len(state['nodes'])} nodes, HAProxy and "
              f"{len(state['etcd']['pids'])} etcd members")
    else:
        print(f"cluster: stopped {len(state['nodes'])} nodes and HAProxy")


COMMANDS = {"start": (cmd_start, None), "kill": (cmd_kill, 1), "restart": (cmd_restart, 1),
            "add": (lambda d, a: membership.cmd_add(sys.modules[__name__], d, a), 0),
            "remove": (lambda d, a: membership.cmd_remove(sys.modules[__name__], d, a), 1),
            "stop": (cmd_stop, 0)}


def main(argv):
    if len(argv) >= 1 and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if len(argv) < 2 or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    fn, nargs = COMMANDS[argv[0]]
    args = argv[2:]
    try:
        if nargs is not None and len(args) != nargs:
            raise UsageError(f"{argv[0]} takes {'DIR NAME' if nargs else 'DIR'}")
        fn(argv[1], args)
    except UsageError as e:
        print(f"cluster: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as e:
        print(f"cluster: {argv[0]} failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
