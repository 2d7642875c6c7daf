#!/usr/bin/env python3
"""Opens N change-feed watchers (GET /kv/?watch=1) on an httpkv server, waits for each
answer head, keeps them open and idle, and reports the server's RSS growth per watcher
(from /proc/PID/status). Usage: idle_watchers.py PID HOST:PORT N"""
import resource, socket, sys

from idle_connections import rss_kib  # same folder: the script's directory is on sys.path


def open_watcher(host, port):
    c = socket.create_connection((host, int(port)))
    c.sendall(b"GET /kv/?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = c.recv(4096)
        if not chunk:
            raise RuntimeError("watcher closed before its head")
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    return c


def main():
    pid, target, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    host, port = target.rsplit(":", 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    warm = [open_watcher(host, port) for _ in range(4)]  # lazily built per-thread state
    before = rss_kib(pid)
    conns = [open_watcher(host, port) for _ in range(n)]
    after = rss_kib(pid)
    print(f"watchers={n} rss_before_kib={before} rss_after_kib={after} "
          f"bytes_per_watcher={(after - before) * 1024 / n:.0f}")
    for c in conns + warm:
        c.close()


if __name__ == "__main__":
    main()
