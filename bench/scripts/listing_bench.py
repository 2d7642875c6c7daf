#!/usr/bin/env python3
"""Listing cost of httpkv: a full `GET /` (MB/s) and one `?limit=1000` page, at two store sizes.

For each size N it starts a fresh httpkv-server (--threads 1, --fsync never, pinned to
--server-cpu), preloads key-0 .. key-(N-1) with httpkv-bench (22-byte values), then
  * full:  `GET /` streamed to the end, ROUNDS times: bytes / seconds (median, min, max);
  * page:  `GET /?limit=1000&after=key-M` from the middle of the key space, PAGES times over
           one keep-alive connection: median seconds per page.
Prints a markdown table and, with --json FILE, the raw numbers.

usage: listing_bench.py --bin-dir build/bin [--sizes 10000,500000] [--rounds 5] [--pages 50]
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc):
    for _ in range(400):
        if proc.poll() is not None:
            raise RuntimeError("httpkv-server exited during start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.025)
    raise RuntimeError("httpkv-server did not start")


def timed_get(conn, path):
    t0 = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    n = 0
    while True:
        chunk = resp.read(1 << 20)
        if not chunk:
            break
        n += len(chunk)
    dt = time.perf_counter() - t0
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: {resp.status}")
    return n, dt


def measure(args, n):
    tmp = tempfile.mkdtemp(prefix="httpkv-listing-")
    port = free_port()
    srv = subprocess.Popen(
        ["taskset", "-c", str(args.server_cpu), os.path.join(args.bin_dir, "httpkv-server"),
         "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(tmp, "data"),
         "--threads", "1", "--fsync", "never", "--log-level", "warn"],
        stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, srv)
        subprocess.run(
            ["taskset", "-c", str(args.client_cpu), os.path.join(args.bin_dir, "httpkv-bench"),
             "--target", f"127.0.0.1:{port}", "--mix", "get=100", "--keys", str(n),
             "--value-size", "22", "-c", "16", "-t", "1", "-d", "0.1s", "--no-progress"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        full = [timed_get(conn, "/") for _ in range(args.rounds)]
        mbps = [b / dt / 1e6 for b, dt in full]
        after = f"key-{n // 2}"
        pages = [timed_get(conn, f"/?limit=1000&after={after}")[1] for _ in range(args.pages)]
        return {"keys": n, "full_bytes": full[0][0], "full_mb_s": statistics.median(mbps),
                "full_mb_s_min": min(mbps), "full_mb_s_max": max(mbps),
                "full_s": statistics.median(dt for _, dt in full),
                "page_ms": statistics.median(pages) * 1e3, "page_ms_min": min(pages) * 1e3,
                "page_ms_max": max(pages) * 1e3}
    finally:
        srv.terminate()
        srv.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", default="build/bin")
    ap.add_argument("--sizes", default="10000,500000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    results = [measure(args, int(s)) for s in args.sizes.split(",")]
    print("| keys | full GET / bytes | full GET / MB/s (median, min–max) | s | "
          "page ?limit=1000 ms (median, min–max) |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['keys']:,} | {r['full_bytes']:,} | {r['full_mb_s']:.1f} "
              f"({r['full_mb_s_min']:.1f}–{r['full_mb_s_max']:.1f}) | {r['full_s']:.3f} | "
              f"{r['page_ms']:.3f} ({r['page_ms_min']:.3f}–{r['page_ms_max']:.3f}) |")
    if len(results) >= 2:
        print(f"\npage at {results[-1]['keys']:,} keys ÷ page at {results[0]['keys']:,} keys: "
              f"{results[-1]['page_ms'] / results[0]['page_ms']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
