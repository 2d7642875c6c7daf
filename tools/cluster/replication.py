"""cluster.sh with --replicas R >= 1: etcd, the shards' members, HAProxy's shard backends.

Shards s1..sN of 1+R nodes each: sK = n((K-1)(1+R)+1) .. n(K(1+R)); node nI listens on
127.0.0.(I+1) on a port chosen before its first start (it must be told --advertise) and kept.
etcd members etcd1..etcdM (M = --etcd-members, 1 or 3) listen on 127.0.0.1 (client and peer
ports chosen at the first start and kept), data in DIR/etcd/etcdK, log DIR/etcd/etcdK.log.
The roles are decided by the members' election in etcd, never here: `start` only waits until
every shard has exactly one member answering GET /primary 200 and HAProxy routes to it.
"""
import os
import random
import re
import shutil
import signal

import processes

START_FLAGS = ("--replicas", "--sync", "--etcd-members", "--leader-ttl", "--loop-wait",
               "--retry-timeout")
TIMING = (("leader_ttl", "--leader-ttl"), ("loop_wait", "--loop-wait"),
          ("retry_timeout", "--retry-timeout"))
ETCD_NAME = re.compile(r"^etcd\d+$")


def parse_flag(opts, flag, value, usage_error):
    key = flag[2:].replace("-", "_")
    if flag in ("--leader-ttl", "--loop-wait", "--retry-timeout"):
        try:
            if not 0 < float(value) <= 3600:
                raise ValueError
        except ValueError:
            raise usage_error(f"{flag} must be a number of seconds (0 < S <= 3600)")
        opts[key] = value
        return
    if not value.isdigit():
        raise usage_error(f"{flag} must be a non-negative integer")
    if flag == "--etcd-members" and value not in ("1", "3"):
        raise usage_error("--etcd-members must be 1 or 3")
    if flag == "--replicas" and int(value) > 8:
        raise usage_error("--replicas must be from 0 to 8")
    opts[key] = int(value)


def check_opts(opts, usage_error):
    r = opts.setdefault("replicas", 0)
    if r == 0:
        del opts["replicas"]  # options.json as before
        for key in ("sync", "etcd_members") + tuple(k for k, _ in TIMING):
            if key in opts:
                raise usage_error(f"--{key.replace('_', '-')} needs --replicas R >= 1")
        return
    opts.setdefault("sync", 0)
    opts.setdefault("etcd_members", 1)
    if opts["sync"] > r:
        raise usage_error(f"--sync {opts['sync']} is more than --replicas {r} (0 <= K <= R)")


def etcd_bin(usage_error=RuntimeError):
    path = shutil.which("etcd") or ("/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None)
    if not path:
        raise usage_error("etcd not found: install the Debian package etcd-server "
                          "(needed for --replicas)")
    return path


# --- etcd -------------------------------------------------------------------------------------

def is_etcd_name(state, name):
    return bool(state.get("etcd")) and bool(ETCD_NAME.match(name))


def etcd_member(state, name, usage_error=RuntimeError):
    for m in state["etcd"]["members"]:
        if m["name"] == name:
            return m
    raise usage_error(f"no etcd member {name} (members: "
                      f"{', '.join(m['name'] for m in state['etcd']['members'])})")


def sync_etcd_pids(state):
    state["etcd"]["pids"] = [m["pid"] for m in state["etcd"]["members"]]


def etcd_running(state):
    return bool(state.get("etcd")) and any(processes.alive(m["pid"], "etcd")
                                           for m in state["etcd"]["members"])


def new_etcd(d, count, cluster_name):
    members = []
    for i in range(1, count + 1):
        members.append({"name": f"etcd{i}",
                        "client": f"http://127.0.0.1:{processes.free_port('127.0.0.1')}",
                        "peer": f"http://127.0.0.1:{processes.free_port('127.0.0.1')}",
                        "pid": None, "data_dir": os.path.join(d, "etcd", f"etcd{i}")})
    return {"endpoints": [m["client"] for m in members], "pids": [None] * count,
            "token": cluster_name, "members": members}


def spawn_etcd(state, m):
    etcd = state["etcd"]
    initial = ",".join(f"{x['name']}={x['peer']}" for x in etcd["members"])
    argv = [etcd_bin(), "--name", m["name"], "--data-dir", m["data_dir"],
            "--listen-client-urls", m["client"], "--advertise-client-urls", m["client"],
            "--listen-peer-urls", m["peer"], "--initial-advertise-peer-urls", m["peer"],
            "--initial-cluster", initial, "--initial-cluster-state", "new",
            "--initial-cluster-token", etcd["token"], "--logger", "zap", "--log-outputs", "stderr"]
    log = m["data_dir"] + ".log"
    os.makedirs(os.path.dirname(m["data_dir"]), exist_ok=True)
    m["pid"] = processes.spawn(argv, log)
    sync_etcd_pids(state)
    return log


def client_addr(url):
    return url.split("://", 1)[1]


def etcd_healthy(m):
    status, body = processes.http_get(client_addr(m["client"]), "/health", timeout=1.0)
    return status == 200 and b'"health":"true"' in body


def start_etcd(state):
    """Starts every member and waits (bounded) until each answers /health true (it has a
    leader and a quorum)."""
    logs = [spawn_etcd(state, m) for m in state["etcd"]["members"]]

    def healthy():
        for m, log in zip(state["etcd"]["members"], logs):
            if not processes.alive(m["pid"], "etcd"):
                raise RuntimeError(f"etcd member {m['name']} exited at start (see {log})")
        return all(etcd_healthy(m) for m in state["etcd"]["members"])

    processes.wait_until(healthy, 30, "etcd to be healthy (a leader and a quorum)")


def kill_etcd(state, name, usage_error):
    m = etcd_member(state, name, usage_error)
    if processes.alive(m["pid"], "etcd"):
        os.kill(m["pid"], signal.SIGKILL)
        processes.wait_until(lambda: not processes.alive(m["pid"], "etcd"), 5, f"{name} to die")
    m["pid"] = None
    sync_etcd_pids(state)


def restart_etcd(d, state, name, usage_error):
    """Same name, ports and data dir; returns once it answers HTTP (healthy only if a quorum
    of members runs)."""
    m = etcd_member(state, name, usage_error)
    processes.stop(m["pid"], "etcd")
    log = spawn_etcd(state, m)

    def up():
        if not processes.alive(m["pid"], "etcd"):
            raise RuntimeError(f"{name} exited at start (see {log})")
        return processes.http_get(client_addr(m["client"]), "/version", timeout=1.0)[0] == 200

    processes.wait_until(up, 15, f"{name} to answer on {m['client']}")


def stop_etcd(state):
    """Stops every etcd member; returns [(pid, comm)] of what it stopped (to verify)."""
    if not state.get("etcd"):
        return []
    out = []
    for m in state["etcd"]["members"]:
        out.append((m["pid"], "etcd"))
        processes.stop(m["pid"], "etcd")
        m["pid"] = None
    sync_etcd_pids(state)
    return out


# --- members ------------------------------------------------------------------------------------

def member_flags(node, opts, state):
    flags = ["--shard", node["shard"], "--etcd", ",".join(state["etcd"]["endpoints"]),
             "--node-name", node["name"], "--advertise", node["addr"],
             "--cluster-name", state["cluster_name"], "--sync", str(opts["sync"])]
    for key, flag in TIMING:
        if key in opts:
            flags += [flag, str(opts[key])]
    return flags


def start_member(server_bin, node, opts, state, extra, log, addr):
    """Starts one member on addr; port 0 means: choose one now (the member must know its
    --advertise address before it listens), and another if that one was taken meanwhile."""
    host, port = addr.rsplit(":", 1)
    tries = 3 if port == "0" else 1
    for attempt in range(tries):
        node["addr"] = f"{host}:{processes.free_port(host)}" if port == "0" else addr
        try:
            return processes.start_node(server_bin, node["addr"], node["data_dir"], log,
                                        extra + member_flags(node, opts, state))
        except RuntimeError as e:
            if attempt == tries - 1:
                raise RuntimeError(f"{e}; its last lines:\n{processes.log_tail(log, 3)}")


def check_previous(previous, opts, shards, usage_error):
    """Before anything is written: a stopped DIR restarts only with the layout it had (its
    data dirs and etcd hold that layout)."""
    if not previous:
        return
    had = bool(previous.get("etcd"))
    if had != bool(opts.get("replicas")) or had and (
            len(previous["etcd"]["members"]) != opts["etcd_members"]
            or previous.get("replicas") != opts["replicas"]
            or len(previous.get("shards", {})) != shards):
        raise usage_error("this DIR was started with other --nodes/--replicas/--etcd-members: "
                          "start it with the same ones, or use another DIR")
    r = opts["replicas"]
    layout = {f"s{k}": [f"n{(k - 1) * (1 + r) + i}" for i in range(1, 2 + r)]
              for k in range(1, shards + 1)}
    if had and previous.get("shards") != layout:
        raise usage_error("this DIR's shards are not s1..sN of consecutive members any more "
                          "(cluster.sh add/remove): start cannot reopen that layout yet; use "
                          "another DIR")


def start(d, state, opts, shards, previous, add_node, usage_error):
    """etcd, then every member of every shard (HAProxy is started by the caller)."""
    r, members = opts["replicas"], opts["etcd_members"]
    old = {}
    if previous and previous.get("etcd"):
        state["cluster_name"] = previous["cluster_name"]
        state["etcd"] = previous["etcd"]
        old = {n["name"]: n["addr"] for n in previous["nodes"]}
    else:
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(d.rstrip("/"))) or "cluster"
        state["cluster_name"] = f"{base}-{random.SystemRandom().getrandbits(32):08x}"
        state["etcd"] = new_etcd(d, members, state["cluster_name"])
    state["replicas"], state["sync"] = r, opts["sync"]
    state["shards"] = {}
    # cluster.json's key order: front, haproxy_pid, nodes, then the rest.
    start_etcd(state)
    for k in range(1, shards + 1):
        shard = f"s{k}"
        state["shards"][shard] = []
        for _ in range(1 + r):
            name = f"n{len(state['nodes']) + 1}"
            node = add_node(d, state, opts, shard, old.get(name))
            state["shards"][shard].append(node["name"])


# --- HAProxy ------------------------------------------------------------------------------------

def shard_backend(state, shard, primary=None, frozen=None, draining=None):
    """backend shard_SHARD. Every member is a server, health-checked with GET /primary: only the
    primary is UP. primary (the member answering /primary 200 when the configuration is
    written, if known): the others are `backup` servers, so that right after a reload, before
    the first checks (servers start UP), HAProxy still sends everything to the primary; after a
    failover the new primary, a backup, is the one server UP and takes over. A frozen shard
    (receiving its keys during `add`) has no server and answers 503 + Retry-After itself (so the
    listing skips it); a draining one (giving its keys away during `remove`) answers the same but
    keeps its servers, so the listing still reads its primary."""
    if shard == frozen:
        return (f"\nbackend shard_{shard}\n"
                f"    http-request return status 503 content-type text/plain "
                f"string \"shard {shard} is receiving its keys (cluster.sh add): retry\\n\" "
                f"hdr Retry-After 1\n")
    addr = {n["name"]: n["addr"] for n in state["nodes"]}
    lines = [f"\nbackend shard_{shard}",
             "    # Only the shard's primary (GET /primary 200) is UP; a write is never retried.",
             "    option httpchk GET /primary",
             "    http-check expect status 200",
             "    timeout check 300ms",
             "    default-server check inter 300ms fastinter 100ms downinter 300ms fall 1 rise 1 "
             "on-marked-down shutdown-sessions",
             # No primary (no member UP): refused here, before anything is forwarded (the
             # write was not applied). Not `nbsrv`: it is 0 in an old process finishing its
             # keep-alive requests after a reload. Any other 503 of HAProxy's own may come after
             # the request reached the primary (e.g. its session cut when the primary is marked
             # down mid-request): it says so, the write may have been applied.
             f"    http-request return status 503 content-type text/plain string \"shard {shard} "
             f"has no primary (failover in progress?): not applied, retry\\n\" hdr Retry-After 1 "
             f"if " + " ".join(f"!{{ srv_is_up(shard_{shard}/{name}) }}"
                               for name in state["shards"][shard]),
             f"    http-error status 503 content-type text/plain string \"shard {shard} lost its "
             f"primary during the request (failover?): it may have been applied; read it back "
             f"before retrying\\n\" hdr Retry-After 1"]
    if shard == draining:
        lines.append(f"    http-request return status 503 content-type text/plain string "
                     f"\"shard {shard} is giving its keys away (cluster.sh remove): retry\\n\" "
                     f"hdr Retry-After 1")
    backup = " backup" if primary else ""
    lines += [f"    server {name} {addr[name]}" + ("" if name == primary else backup)
              for name in state["shards"][shard]]
    return "\n".join(lines) + "\n"


def front_names(state, frozen=None, draining=None):
    """The shard list the front's /healthz names (a frozen or draining shard marked, so that a
    reload can be told to have taken effect)."""
    return " ".join(s + ("(frozen)" if s == frozen else "") + ("(draining)" if s == draining else "")
                    for s in state["shards"])


def config_words(state, route_rules, frozen=None, draining=None):
    """The template's words for shards; route_rules: front.route_rules (the same rendezvous
    rules, over shard names). Each shard's current primary is asked (GET /primary) and written
    as its one non-backup server (see shard_backend); none while a shard has no single one."""
    shards = list(state["shards"])
    now = primaries(state, timeout=0.5)
    front_rules = ("    # The primary HAProxy routes each shard to right now (UP servers): "
                   "\"s1 n2\" lines, \"-\" for none.\n"
                   "    http-request use-service lua.httpkv_primaries if { path /_cluster/primaries }\n")
    backends = "".join(shard_backend(state, s, now[s][0] if len(now.get(s, [])) == 1 else None,
                                     frozen, draining) for s in shards)
    return (("@NODES@", front_names(state, frozen, draining)),
            ("@SHARD_FRONT_RULES@", front_rules), ("@BACKEND_PREFIX@", "shard"),
            ("@NODE_BACKENDS@", backends),
            ("@ROUTE_RULES@", route_rules([{"name": s} for s in shards])))


def front_primaries(state):
    """{shard: [names of the servers HAProxy has UP]} from the front, or None."""
    status, body = processes.http_get(state["front"], "/_cluster/primaries", timeout=1.0)
    if status != 200:
        return None
    out = {}
    for line in body.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = [] if parts[1] == "-" else parts[1].split(",")
    return out


def primaries(state, timeout=1.0):
    """{shard: [names of the members answering GET /primary 200]}."""
    addr = {n["name"]: n["addr"] for n in state["nodes"]}
    return {s: [m for m in ms if processes.http_get(addr[m], "/primary", timeout=timeout)[0] == 200]
            for s, ms in state["shards"].items()}


def wait_primaries(d, state, timeout=30.0):
    """Until every shard has exactly one member answering /primary 200 and it is the one server
    HAProxy has UP for the shard."""
    seen = {}

    def ready():
        seen["members"] = primaries(state)
        seen["front"] = front_primaries(state)
        return (all(len(p) == 1 for p in seen["members"].values())
                and seen["front"] == seen["members"])

    try:
        processes.wait_until(ready, timeout, "one primary per shard, routed to by HAProxy")
    except RuntimeError as e:
        raise RuntimeError(f"{e}: members answering /primary 200 {seen.get('members')}, "
                           f"HAProxy UP {seen.get('front')} (logs: {d}/nK/server.log, "
                           f"{d}/etcd/*.log)")
