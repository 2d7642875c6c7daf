#!/usr/bin/env python3
"""Never-reading change-feed watchers under a write burst (issue 21 item 1): how long after
the burst the server still holds them (httpkv_feed_watchers) and its anonymous memory
(RssAnon from /proc/PID/status) before, right after the burst and 1 s later.

    cut_watchers.py SERVER_BIN [--watchers 20] [--mib 32]

Starts its own server (--feed-max-lag 50, 1 thread) on a temp dir and stops it."""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "cluster"))
import processes  # noqa: E402
from pipeline import Pipeline  # noqa: E402


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def metric(addr, name):
    status, body = processes.http_get(addr, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return -1


def watcher(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(b"GET /kv/?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    return s  # never read


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--watchers", type=int, default=20)
    ap.add_argument("--mib", type=int, default=32)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="httpkv-cut.")
    pid, addr = processes.start_node(a.server, "127.0.0.1:0", os.path.join(d, "data"),
                                     os.path.join(d, "server.log"),
                                     ["--feed-max-lag", "50", "--threads", "1"])
    try:
        base = rss_anon_kib(pid)
        socks = [watcher(addr) for _ in range(a.watchers)]
        processes.wait_until(lambda: metric(addr, "httpkv_feed_watchers") == a.watchers, 10,
                             "the watchers")
        value = b"v" * (64 * 1024)
        p = Pipeline(addr)
        for i in range(0, a.mib * 16, 64):
            p.statuses([p.request("PUT", f"/kv/k{j}", value) for j in range(i, i + 64)])
        burst_end = time.monotonic()
        after_burst = rss_anon_kib(pid)
        left = metric(addr, "httpkv_feed_watchers")
        while left > 0 and time.monotonic() - burst_end < 30:
            time.sleep(0.01)  # a measurement, not a synchronisation
            left = metric(addr, "httpkv_feed_watchers")
        gone = time.monotonic() - burst_end
        time.sleep(1)
        print(f"{a.watchers} watchers, {a.mib} MiB written: RssAnon {base} KiB before, "
              f"{after_burst} KiB right after the burst ({(after_burst - base) / 1024:.1f} MiB "
              f"more), {rss_anon_kib(pid)} KiB 1 s later; watchers still open after the burst: "
              f"{'none after %.2f s' % gone if left == 0 else '%d after 30 s' % left}; "
              f"cut: {metric(addr, 'httpkv_feed_watchers_cut_total')}")
        for s in socks:
            s.close()
    finally:
        processes.stop(pid, os.path.basename(a.server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
