"""Helpers for the cluster tests: a cluster in a temp dir (stopped even on failure) and a
small keep-alive HTTP client."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER_SH = os.path.join(REPO, "tools", "cluster.sh")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def enc(key: bytes) -> str:
    return urllib.parse.quote(key, safe="")


class Client:
    """One keep-alive connection; reconnects (once) when the peer closed it."""

    def __init__(self, addr, timeout=10):
        self.host, port = addr.rsplit(":", 1)
        self.port, self.timeout, self.conn = int(port), timeout, None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, data, resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


class Cluster:
    def __init__(self, nodes=3, bin_dir=None, extra=()):
        self.dir = tempfile.mkdtemp(prefix="httpkv-cluster-test.")
        self.env = dict(os.environ)
        if bin_dir:
            self.env["HTTPKV_BIN_DIR"] = bin_dir
        self.bin_dir = self.env.get("HTTPKV_BIN_DIR", os.path.join(REPO, "build", "bin"))
        p = self.run("start", "--nodes", str(nodes), *extra, check=False)
        if p.returncode != 0:
            self.close()
            fail(f"cluster.sh start exited {p.returncode}: {p.stderr.strip()}")

    def run(self, *args, check=True):
        p = subprocess.run([CLUSTER_SH, args[0], self.dir, *args[1:]], env=self.env,
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            fail(f"cluster.sh {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        return p

    @property
    def state(self):
        with open(os.path.join(self.dir, "cluster.json")) as f:
            return json.load(f)

    def front(self):
        return Client(self.state["front"])

    def node(self, name):
        return Client(next(n["addr"] for n in self.state["nodes"] if n["name"] == name))

    def node_keys(self, name):
        """Every key stored on one node (asked directly, JSON pages)."""
        c, keys, after = self.node(name), [], None
        while True:
            q = "/?limit=1000" + (f"&after={enc(after)}" if after is not None else "")
            status, body, _ = c.request("GET", q, headers={"Accept": "application/json"})
            expect(status == 200, f"listing {name}: {status}")
            page = [k.encode("utf-8", "surrogateescape")
                    for k in json.loads(body.decode("utf-8", "surrogateescape"))]
            keys += page
            if len(page) < 1000:
                return keys
            after = page[-1]

    def close(self):
        p = self.run("stop", check=False)
        if p.returncode == 0:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"cluster.sh stop failed ({p.stderr.strip()}); left {self.dir}", file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
