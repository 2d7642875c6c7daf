"""Tokens through the front (issue 20 item 3): a cluster started with --auth-file lists through
the front with the client's token, the listing names each node's SEQ (X-Seq: n1=S1,n2=S2,...)
and a watch of one node resumed after its SEQ gets exactly the writes made after the listing."""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile

from cluster_lib import enc, expect
import placement_ref

TOKENS = {"admin": "adm-0123456789abcdef", "write": "wrt-0123456789abcdef",
          "read": "rd-0123456789abcdef"}


def write_token_file():
    """A token file for --auth-file (one token per scope); its path."""
    fd, path = tempfile.mkstemp(prefix="httpkv-tokens.", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("# cluster auth test\n")
        for scope, token in TOKENS.items():
            f.write(f"{token} {scope} {scope}-user\n")
    return path


def bearer(scope):
    return {"Authorization": f"Bearer {TOKENS[scope]}"}


def first_event(addr, since, token):
    """The first event of one node's feed after `since`: (id, event, data)."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", f"/kv/?watch=1&since={since}", headers=bearer(token))
        resp = conn.getresponse()
        expect(resp.status == 200, f"watch on {addr}: {resp.status}")
        fields = {}
        while True:
            line = resp.fp.readline().decode().rstrip("\r\n")
            if line == "" and "id" in fields:
                return fields["id"], fields.get("event"), fields.get("data")
            if ":" in line and not line.startswith(":"):
                name, value = line.split(":", 1)
                fields[name] = value.strip()
    finally:
        conn.close()


def case_auth(cluster):
    front, names = cluster.front(), [n["name"] for n in cluster.state["nodes"]]
    keys = [f"user:{i}".encode() for i in range(60)]
    for k in keys:
        status, _, _ = front.request("PUT", "/kv/" + enc(k), body=b"v-" + k, headers=bearer("write"))
        expect(status == 201, f"PUT {k!r} with the write token through the front: {status}")
    status, _, resp = front.request("PUT", "/kv/nobody", body=b"x")
    expect(status == 401 and resp.getheader("WWW-Authenticate") == 'Bearer realm="httpkv"',
           f"PUT without a token through the front: {status}")

    for headers, want in (({}, 401), ({"Authorization": "Bearer wrong"}, 401)):
        status, body, resp = front.request("GET", "/", headers=headers)
        expect(status == want and resp.getheader("WWW-Authenticate") == 'Bearer realm="httpkv"',
               f"listing through the front with {headers}: {status} {body!r}")
    status, body, resp = front.request("GET", "/", headers=bearer("read"))
    expect(status == 200, f"listing through the front with the read token: {status} {body!r}")
    expect(body == b"".join(k + b":v-" + k + b"\n" for k in sorted(keys)), "listing differs")

    # X-Seq names every node's SEQ, each equal to what the node itself says (no writes since).
    seqs = dict(part.split("=") for part in resp.getheader("X-Seq", "").split(","))
    expect(sorted(seqs) == sorted(names), f"X-Seq {resp.getheader('X-Seq')!r} names {names}?")
    for name in names:
        status, _, own = cluster.node(name).request("HEAD", "/", headers=bearer("read"))
        expect(status == 200 and own.getheader("X-Seq") == seqs[name],
               f"{name}: own X-Seq {own.getheader('X-Seq')} vs the front's {seqs[name]}")
    status, _, head = front.request("HEAD", "/", headers=bearer("read"))
    expect(status == 200 and re.fullmatch(r"(n\d+=\d+,?)+", head.getheader("X-Seq") or ""),
           f"HEAD / through the front: {status} X-Seq {head.getheader('X-Seq')}")

    # Resume one node's feed after the listing: the first event is the write made after it.
    key = b"after-the-listing"
    status, _, _ = front.request("PUT", "/kv/" + enc(key), body=b"new", headers=bearer("write"))
    expect(status == 201, f"PUT after the listing: {status}")
    owner = placement_ref.owner(names, key)
    addr = next(n["addr"] for n in cluster.state["nodes"] if n["name"] == owner)
    seq, event, data = first_event(addr, seqs[owner], "read")
    expect(event == "put" and int(seq) == int(seqs[owner]) + 1
           and json.loads(data).get("key") == key.decode(),
           f"first event on {owner} after {seqs[owner]}: {seq} {event} {data}")
    check_moves_with_tokens(cluster, keys)
    check_replica_needs_admin_token(cluster)


def case_replicated_auth(cluster):
    """A shard of 1+1 with --sync 1 and --auth-file: the replica presents the file's first
    admin token to fetch the log, so a write is acknowledged (it needs the replica's copy),
    the replica serves it, and the listing through the front names the shard's SEQ."""
    shard = cluster.shards[0]
    primary = cluster.wait_primary(shard)
    replica = next(m for m in cluster.members(shard) if m != primary)
    cluster.wait_replica(replica)
    front = cluster.front()
    for i in range(20):
        key = f"k{i}".encode()
        status, body, _ = front.request("PUT", "/kv/" + enc(key), body=b"v%d" % i,
                                        headers=bearer("write"))
        expect(status == 201, f"PUT {key!r} through the front (--sync 1): {status} {body!r}")
    replica_client = cluster.node(replica)
    status, body, _ = replica_client.request("GET", "/kv/k19", headers=bearer("read"))
    expect(status == 200 and body == b"v19", f"GET k19 on the replica {replica}: {status} {body!r}")
    status, _, _ = replica_client.request("GET", "/admin/replication")
    expect(status == 401, f"/admin/replication without a token: {status}")
    status, body, resp = front.request("GET", "/", headers=bearer("read"))
    expect(status == 200 and body.count(b"\n") == 20, f"listing through the front: {status}")
    expect(re.fullmatch(rf"{shard}=\d+", resp.getheader("X-Seq") or ""),
           f"X-Seq of a listing over shards: {resp.getheader('X-Seq')!r}")


def check_moves_with_tokens(cluster, keys):
    """add and remove on a cluster with --auth-file: the mover presents the file's admin token
    (a refused request would fail the move); afterwards every key reads back through the front."""
    for args in (("add",), ("remove", "n1")):
        p = cluster.run(*args)
        expect(re.search(r"moved \d+ of \d+ keys", p.stdout), f"cluster.sh {args}: {p.stdout}")
    front = cluster.front()
    for k in keys:
        status, body, _ = front.request("GET", "/kv/" + enc(k), headers=bearer("read"))
        expect(status == 200 and body == b"v-" + k, f"{k!r} after add and remove: {status}")


def check_replica_needs_admin_token(cluster):
    """A member of a shard with --auth-file but no admin token in it cannot fetch the log from
    its primary: it exits 2 at start with the reason (before it talks to anyone)."""
    fd, path = tempfile.mkstemp(prefix="httpkv-tokens-noadmin.", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(f"{TOKENS['read']} read\n{TOKENS['write']} write\n")
    data = tempfile.mkdtemp(prefix="httpkv-noadmin.")
    try:
        with socket.socket() as probe:  # a member needs a fixed port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        p = subprocess.run([os.path.join(cluster.bin_dir, "httpkv-server"), "--listen",
                            f"127.0.0.1:{port}", "--data-dir", data, "--auth-file", path, "--shard", "s1",
                            "--node-name", "n1", "--etcd", "http://127.0.0.1:9"],
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode == 2 and "no admin token" in p.stderr,
               f"--shard with a token file without admin: exit {p.returncode}, {p.stderr!r}")
    finally:
        os.unlink(path)
        shutil.rmtree(data, ignore_errors=True)
