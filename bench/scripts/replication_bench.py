#!/usr/bin/env python3
"""Replication benchmarks (issue 19 item 8): failover time, PUT cost of --sync, catch-up speed.

    python3 bench/scripts/replication_bench.py [--bin-dir build/bin] [--runs 20] [--rounds 4]
        [--duration 2] [--keys 1000000] [--only failover|throughput|catchup] [--out FILE]

1. failover: one shard, --replicas 2 --sync 1. Each of --runs runs: a writer PUTs a fresh key
   through the front in a loop (one keep-alive connection, 1 s timeout, 5 ms pause after a
   failure); the primary is killed with `cluster.sh kill` (kill -9); the time is from the
   moment its pid is gone to the answer of the first 2xx PUT sent after that moment. The
   killed member is then restarted and must stream again (GET /replica 200) before the next run.
2. throughput: PUT (16 connections, 100-byte values, 100,000 uniform keys) straight to the
   primary of a --replicas 1 --sync 0 cluster, of a --replicas 1 --sync 1 cluster, and to a
   single standalone node (cluster.sh --nodes 1, no replicas; HAProxy not used), in alternating
   rounds (A B C A B C ...), httpkv-bench pinned with `taskset -c 1`. Server CPU = utime+stime
   of every httpkv-server process of that setup (not etcd, not HAProxy), from /proc/PID/stat.
3. catch-up: one shard, --replicas 1 --sync 0. The replica is killed and its data dir deleted,
   --keys keys (100-byte values) are loaded into the primary (httpkv-bench's pipelined preload),
   the replica is restarted and polled every 50 ms until its last_seq equals the primary's.

Every cluster lives in a temp dir and is stopped in a `finally` (Ctrl-C and SIGTERM included).
Numbers only mean something on an otherwise idle machine.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "cluster"))
import processes  # noqa: E402
import replication  # noqa: E402

CLUSTER = os.path.join(REPO, "tools", "cluster.sh")
TICK = os.sysconf("SC_CLK_TCK")
SERVER = "httpkv-server"


def log(msg):
    print(f"[replication_bench] {msg}", file=sys.stderr, flush=True)


# --- clusters ---------------------------------------------------------------------------------

class Cluster:
    """One tools/cluster.sh cluster in a temp dir; stop() is idempotent and checks by pid."""

    def __init__(self, label, args, env):
        self.label, self.args, self.env = label, args, env
        self.dir = tempfile.mkdtemp(prefix=f"httpkv-repl-bench-{label}.")
        self.stopped = False

    def cmd(self, *argv, timeout=120):
        """cluster.sh in its own session, never interrupted half-way (on Ctrl-C it finishes
        first, so that cluster.json names every process it started)."""
        proc = subprocess.Popen([CLUSTER, argv[0], self.dir] + list(argv[1:]), env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except KeyboardInterrupt:
            proc.communicate(timeout=timeout)
            raise
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        if proc.returncode != 0:
            raise RuntimeError(f"cluster.sh {argv[0]} {self.label}: exit {proc.returncode}: "
                               f"{err.strip()}")
        return out

    def start(self):
        log(f"starting {self.label}: cluster.sh start {' '.join(self.args)} ({self.dir})")
        self.cmd("start", *self.args)

    @property
    def state(self):
        with open(os.path.join(self.dir, "cluster.json")) as f:
            return json.load(f)

    def node(self, name):
        return next(n for n in self.state["nodes"] if n["name"] == name)

    def server_pids(self):
        return [n["pid"] for n in self.state["nodes"] if n["pid"]]

    def primary(self, timeout=30.0):
        """The one member answering /primary 200, routed to by the front (bounded)."""
        st = self.state
        if not st.get("shards"):
            return st["nodes"][0]["name"]
        seen = {}

        def one():
            p = replication.primaries(st)
            seen["members"] = p
            if len(p["s1"]) != 1:
                return False
            seen["front"] = replication.front_primaries(st)
            return bool(seen["front"]) and seen["front"].get("s1") == p["s1"]

        processes.wait_until(one, timeout, f"one primary in {self.label} ({seen})")
        return seen["members"]["s1"][0]

    def wait_replica(self, name, timeout=60.0):
        addr = self.node(name)["addr"]
        processes.wait_until(lambda: processes.http_get(addr, "/replica", 1.0)[0] == 200,
                             timeout, f"{name} of {self.label} to stream (GET /replica 200)")

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        try:
            pids = self.all_pids()
        except (OSError, ValueError):
            pids = []
        err = None
        for attempt in range(3):
            try:
                self.cmd("stop")
                err = None
                break
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                err = e
                time.sleep(0.5)
        # Our own processes only: the pids of our cluster.json, and any process whose command
        # line names our temp dir (one started by a cluster.sh that did not get to record it).
        left = [(pid, comm) for pid, comm in pids + self.named_in_dir()
                if processes.alive(pid, comm)]
        for pid, comm in left:
            processes.stop(pid, comm, signal.SIGKILL)
        if err is None and not left:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            log(f"stop {self.label}: {err or 'ok'}; killed leftovers {left}; kept {self.dir}")

    def named_in_dir(self):
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(f"/proc/{entry}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm in (SERVER, "etcd", "haproxy") and any(
                    a.decode(errors="replace") == self.dir or
                    a.decode(errors="replace").startswith(self.dir + "/") for a in argv):
                out.append((int(entry), comm))
        return out

    def all_pids(self):
        st = self.state
        out = [(n["pid"], SERVER) for n in st["nodes"]]
        if st.get("haproxy_pid"):
            out += [(st["haproxy_pid"], "haproxy")] + [
                (w, "haproxy") for w in processes.children(st["haproxy_pid"])]
        for m in (st.get("etcd") or {}).get("members", []):
            out.append((m["pid"], "etcd"))
        return [(p, c) for p, c in out if p]


def cpu_seconds(pids):
    """utime+stime of pids in seconds (as tools/cluster/front_cost.py)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def replication_state(addr):
    status, body = processes.http_get(addr, "/admin/replication", timeout=1.0)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def metric(addr, name):
    status, body = processes.http_get(addr, "/metrics", timeout=2.0)
    for line in body.decode(errors="replace").splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def bench(bin_dir, target, args, timeout):
    """Runs httpkv-bench pinned to core 1 (when taskset exists); returns its --json output."""
    with tempfile.NamedTemporaryFile(suffix=".json", prefix="httpkv-repl-bench.") as out:
        argv = [os.path.join(bin_dir, "httpkv-bench"), "--target", target, "--no-progress",
                "--json", out.name] + args
        if shutil.which("taskset"):
            argv = ["taskset", "-c", "1"] + argv
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"httpkv-bench exit {r.returncode}: {r.stderr.strip()}")
        with open(out.name) as f:
            res = json.load(f)
        res["_stderr"] = r.stderr.strip()
        return res


def med(xs):
    return statistics.median(xs) if xs else float("nan")


# --- 1. failover ------------------------------------------------------------------------------

class Writer(threading.Thread):
    """PUTs fresh keys through the front on one keep-alive connection; records
    (sent, answered, outcome) where outcome is the status or an exception name."""

    def __init__(self, front, prefix, timeout=1.0):
        super().__init__(daemon=True)
        self.host, port = front.rsplit(":", 1)
        self.port, self.prefix, self.timeout = int(port), prefix, timeout
        self.events = []
        self.halt = threading.Event()

    def run(self):
        conn, n = None, 0
        while not self.halt.is_set():
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            n += 1
            t0 = time.monotonic()
            try:
                conn.request("PUT", f"/kv/{self.prefix}-{n}", body=b"v" * 32)
                resp = conn.getresponse()
                resp.read()
                outcome = resp.status
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                outcome = type(e).__name__
                conn.close()
                conn = None
            self.events.append((t0, time.monotonic(), outcome))
            if not (isinstance(outcome, int) and 200 <= outcome < 300):
                time.sleep(0.005)  # poll interval after a failure
        if conn is not None:
            conn.close()

    def first_ok_after(self, t):
        for sent, answered, outcome in list(self.events):
            if sent >= t and isinstance(outcome, int) and 200 <= outcome < 300:
                return answered
        return None


def failover(a, env, clusters):
    c = Cluster("failover", ["--nodes", "1", "--replicas", "2", "--sync", "1"], env)
    clusters.append(c)
    c.start()
    samples = []
    for run in range(1, a.runs + 1):
        st = c.state
        primary = c.primary()
        for m in st["shards"]["s1"]:
            if m != primary:
                c.wait_replica(m)
        pid = c.node(primary)["pid"]
        w = Writer(st["front"], f"failover-{run}")
        w.start()
        try:
            processes.wait_until(lambda: w.first_ok_after(0) is not None, 10,
                                 "a first 2xx PUT through the front before the kill")
            proc = subprocess.Popen([CLUSTER, "kill", c.dir, primary], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
            # the moment of the kill: the first poll (1 ms apart) that finds the pid gone
            deadline = time.monotonic() + 10
            while processes.alive(pid, SERVER) and time.monotonic() < deadline:
                time.sleep(0.001)
            t_kill = time.monotonic()
            _, err = proc.communicate(timeout=30)
            if proc.returncode != 0:
                raise RuntimeError(f"cluster.sh kill: {err.strip()}")
            ok_at = None
            deadline = t_kill + a.failover_timeout
            while ok_at is None and time.monotonic() < deadline:
                ok_at = w.first_ok_after(t_kill)
                if ok_at is None:
                    time.sleep(0.01)
        finally:
            w.halt.set()
            w.join(timeout=5)
        outcomes = {}
        for sent, _, outcome in w.events:
            failed = not (isinstance(outcome, int) and 200 <= outcome < 300)
            if failed and sent >= t_kill and (ok_at is None or sent < ok_at):
                outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + 1
        new_primary = c.primary() if ok_at is not None else "?"
        took = None if ok_at is None else ok_at - t_kill
        samples.append({"run": run, "killed": primary, "new_primary": new_primary,
                        "seconds": took, "failed_puts": outcomes})
        log(f"failover run {run}: killed {primary}, {new_primary} primary after "
            f"{'TIMEOUT' if took is None else f'{took:.3f}s'}; failures meanwhile {outcomes}")
        c.cmd("restart", primary)
        c.wait_replica(primary, timeout=60)
        if took is None:
            raise RuntimeError(f"no 2xx PUT within {a.failover_timeout:.0f}s of the kill (run {run})")
    return samples


def failover_md(samples):
    xs = sorted(s["seconds"] for s in samples if s["seconds"] is not None)
    out = ["## Failover time (kill -9 of the primary, --replicas 2 --sync 1)", "",
           f"{len(samples)} runs; time from the killed pid being gone to the answer of the first "
           "2xx PUT (sent after the kill) through the front.", ""]
    if xs:
        out += [f"**min {xs[0]:.3f} s / median {med(xs):.3f} s / max {xs[-1]:.3f} s**", ""]
    out += ["| run | killed | new primary | seconds | failed PUTs meanwhile |",
            "|---|---|---|---|---|"]
    for s in samples:
        fails = ", ".join(f"{k}: {v}" for k, v in sorted(s["failed_puts"].items())) or "-"
        secs = "timeout" if s["seconds"] is None else f"{s['seconds']:.3f}"
        out.append(f"| {s['run']} | {s['killed']} | {s['new_primary']} | {secs} | {fails} |")
    return out + [""]


# --- 2. throughput ----------------------------------------------------------------------------

SETUPS = (("sync0", ["--nodes", "1", "--replicas", "1", "--sync", "0"]),
          ("sync1", ["--nodes", "1", "--replicas", "1", "--sync", "1"]),
          ("standalone", ["--nodes", "1"]))


def throughput(a, env, clusters):
    setups = []
    for label, args in SETUPS:
        c = Cluster(label, args, env)
        clusters.append(c)
        c.start()
        setups.append((label, c))
    bench_args = ["--mix", "put=100", "--connections", str(a.connections), "--threads", "1",
                  "--keys", "100000", "--zipf", "0", "--value-size", "100"]
    for label, c in setups:  # warm-up, not recorded
        bench(a.bin_dir, c.node(c.primary())["addr"], bench_args + ["--duration", "300ms"], 60)
    rows = {label: [] for label, _ in setups}
    for r in range(a.rounds):
        for label, c in setups:
            target = c.node(c.primary())["addr"]
            pids = c.server_pids()
            c0 = cpu_seconds(pids)
            res = bench(a.bin_dir, target, bench_args + ["--duration", f"{a.duration}s"],
                        a.duration + 60)
            cpu = cpu_seconds(pids) - c0
            ok = res["requests"] - res["errors"] - res["non_2xx"]
            rps = ok / res["duration_s"] if res.get("duration_s") else res["rps"]
            rows[label].append({"rps": rps, "per_cpu": ok / cpu if cpu > 0 else float("nan"),
                                "cpu": cpu, "non_2xx": res["non_2xx"], "errors": res["errors"],
                                "p50": res["latency_us"]["p50"], "p99": res["latency_us"]["p99"]})
            log(f"throughput round {r + 1} {label}: {rps:.0f} req/s, {cpu:.2f} server CPU-s, "
                f"{res['non_2xx']} non-2xx, {res['errors']} errors")
    for _, c in setups:
        c.stop()
    return rows


def throughput_md(a, rows):
    n = a.rounds
    out = ["## PUT throughput: --sync 0 vs --sync 1 vs standalone", "",
           f"PUT straight to the primary (no HAProxy), {a.connections} connections, 100-byte "
           f"values, 100,000 uniform keys; {n} alternating rounds of {a.duration:g} s; "
           "httpkv-bench pinned with `taskset -c 1`; server CPU = utime+stime of every "
           "httpkv-server process of the setup (primary + replica; etcd and HAProxy excluded).",
           "", "| setup | req/s per round | median req/s | req per server CPU-s per round | "
           "median req/CPU-s | p50 / p99 µs (median) | non-2xx + errors |",
           "|---|---|---|---|---|---|---|"]
    for label, rs in rows.items():
        per_round = " ".join(f"{x['rps']:.0f}" for x in rs)
        per_cpu = " ".join(f"{x['per_cpu']:.0f}" for x in rs)
        out.append(f"| {label} | {per_round} | "
                   f"{med([x['rps'] for x in rs]):.0f} | "
                   f"{per_cpu} | "
                   f"{med([x['per_cpu'] for x in rs]):.0f} | "
                   f"{med([x['p50'] for x in rs]):.0f} / {med([x['p99'] for x in rs]):.0f} | "
                   f"{sum(x['non_2xx'] + x['errors'] for x in rs)} |")
    out.append("")

    def ratio(num, den, key):
        return med([x[key] / y[key] for x, y in zip(rows[num], rows[den]) if y[key]])

    out += ["| median of per-round ratios | req/s | req per server CPU-s |", "|---|---|---|",
            f"| sync1 / sync0 | {ratio('sync1', 'sync0', 'rps'):.2f} | "
            f"{ratio('sync1', 'sync0', 'per_cpu'):.2f} |",
            f"| sync0 / standalone | {ratio('sync0', 'standalone', 'rps'):.2f} | "
            f"{ratio('sync0', 'standalone', 'per_cpu'):.2f} |", ""]
    return out


# --- 3. catch-up ------------------------------------------------------------------------------

def segment_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, f)) for f in os.listdir(data_dir)
               if f.endswith(".log"))


def catchup(a, env, clusters):
    c = Cluster("catchup", ["--nodes", "1", "--replicas", "1", "--sync", "0"], env)
    clusters.append(c)
    c.start()
    primary = c.primary()
    replica = next(m for m in c.state["shards"]["s1"] if m != primary)
    c.wait_replica(replica)
    c.cmd("kill", replica)
    shutil.rmtree(c.node(replica)["data_dir"])
    p = c.node(primary)
    log(f"catch-up: {replica} killed and emptied; loading {a.keys} keys into {primary}")
    t = time.monotonic()
    res = bench(a.bin_dir, p["addr"], ["--mix", "get=100", "--keys", str(a.keys), "--zipf", "0",
                                       "--value-size", "100", "--connections", "8",
                                       "--threads", "1", "--duration", "1ms"],
                120 + a.keys / 500)
    load_s = time.monotonic() - t
    prim = replication_state(p["addr"])
    if not prim:
        raise RuntimeError(f"{primary} does not answer /admin/replication after the load")
    target_seq = prim["last_seq"]
    seg = segment_bytes(p["data_dir"])
    log(f"catch-up: loaded ({res['_stderr'].splitlines()[0] if res['_stderr'] else ''}) in "
        f"{load_s:.1f}s; primary last_seq {target_seq}, segments {seg} bytes; restarting {replica}")
    r_addr = c.node(replica)["addr"]
    t0 = time.monotonic()
    c.cmd("restart", replica)
    t_up = time.monotonic()
    seen = {"seq": None}
    deadline = t0 + 120 + a.keys / 2000
    while True:
        st = replication_state(r_addr)
        if st:
            seen["seq"] = st["last_seq"]
            if st["last_seq"] >= target_seq:
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{replica} at last_seq {seen['seq']} of {target_seq} after "
                               f"{time.monotonic() - t0:.0f}s")
        time.sleep(0.05)
    t_done = time.monotonic()
    final_primary_seq = (replication_state(p["addr"]) or {}).get("last_seq")
    return {"keys": a.keys, "preloaded": res.get("preloaded_keys"), "load_s": load_s,
            "records": target_seq, "segment_bytes": seg, "replica_seq": seen["seq"],
            "primary_seq_after": final_primary_seq,
            "received_records": metric(r_addr, "httpkv_replication_received_records_total"),
            "received_bytes": metric(r_addr, "httpkv_replication_received_bytes_total"),
            "total_s": t_done - t0, "restart_s": t_up - t0, "streaming_s": t_done - t_up,
            "primary": primary, "replica": replica}


def catchup_md(r):
    secs = r["total_s"]
    recb = r["received_bytes"] or 0
    out = ["## Replica catch-up from an empty data dir (--replicas 1 --sync 0)", "",
           f"{r['keys']:,} keys of 100 bytes loaded into {r['primary']} "
           f"({r['load_s']:.1f} s, httpkv-bench preload) while {r['replica']} was down with its "
           f"data dir deleted; then `cluster.sh restart {r['replica']}` and /admin/replication "
           "polled every 50 ms until its last_seq reached the primary's.", "",
           "| | |", "|---|---|",
           f"| records (primary last_seq) | {r['records']:,} |",
           f"| primary segment file sizes (*.log) | {r['segment_bytes']:,} |",
           f"| replica received records / bytes (/metrics) | "
           f"{(r['received_records'] or 0):,.0f} / {recb:,.0f} |",
           f"| restart command (until listening) | {r['restart_s']:.2f} s |",
           f"| restart to last_seq == primary's | **{secs:.2f} s** |",
           f"| records/s | **{r['records'] / secs:,.0f}** |",
           f"| MB/s (replica received bytes) | **{recb / secs / 1e6:.1f}** |",
           f"| MB/s (primary segment file sizes; preallocated space counts) | "
           f"{r['segment_bytes'] / secs / 1e6:.1f} |", ""]
    return out


# --- main -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--runs", type=int, default=20, help="failover runs")
    ap.add_argument("--rounds", type=int, default=4, help="throughput rounds")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per throughput round")
    ap.add_argument("--connections", type=int, default=16, help="httpkv-bench connections")
    ap.add_argument("--keys", type=int, default=1_000_000, help="keys loaded for catch-up")
    ap.add_argument("--failover-timeout", type=float, default=60.0,
                    help="seconds a run waits for the first 2xx after the kill")
    ap.add_argument("--only", choices=("failover", "throughput", "catchup"))
    ap.add_argument("--out")
    a = ap.parse_args()
    src = os.path.abspath(a.bin_dir)
    for b in ("httpkv-server", "httpkv-bench"):
        if not os.access(os.path.join(src, b), os.X_OK):
            print(f"missing {src}/{b}", file=sys.stderr)
            return 2
    # Private copies: a rebuild of the tree during the run must not swap binaries under it.
    a.bin_dir = tempfile.mkdtemp(prefix="httpkv-repl-bench-bin.")
    for b in ("httpkv-server", "httpkv-bench"):
        shutil.copy2(os.path.join(src, b), os.path.join(a.bin_dir, b))
    env = dict(os.environ, HTTPKV_BIN_DIR=a.bin_dir)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    clusters = []
    md = ["# httpkv replication benchmark", "",
          f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start; binaries copied from "
          f"{src}.", ""]
    status = 0
    try:
        if a.only in (None, "failover"):
            md += failover_md(failover(a, env, clusters))
        if a.only in (None, "throughput"):
            md += throughput_md(a, throughput(a, env, clusters))
        if a.only in (None, "catchup"):
            md += catchup_md(catchup(a, env, clusters))
    except KeyboardInterrupt:
        md += ["**interrupted**", ""]
        status = 130
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        md += [f"**failed: {e}**", ""]
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        for c in clusters:
            try:
                c.stop()
            except Exception as e:  # keep stopping the others
                log(f"stop {c.label} failed: {e}; dir {c.dir}")
        shutil.rmtree(a.bin_dir, ignore_errors=True)
    text = "\n".join(md) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
