#!/usr/bin/env python3
"""Opens N keep-alive connections to an httpkv server, sends one GET on each, keeps them
open, and reports the server's RSS growth per connection (from /proc/PID/status).
Usage: idle_connections.py PID HOST:PORT N"""
import resource, socket, sys


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    pid, target, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    host, port = target.rsplit(":", 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Warm up: one exchange so lazily built per-thread state is not counted.
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(4096)
    s.close()
    before = rss_kib(pid)
    conns = []
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    for i in range(n):
        c = socket.create_connection((host, int(port)))
        c.sendall(req)
        conns.append(c)
    for c in conns:
        data = b""
        while b"ok\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                raise RuntimeError("server closed a connection")
            data += chunk
    after = rss_kib(pid)
    per_conn = (after - before) * 1024 / n
    print(f"connections={n} rss_before_kib={before} rss_after_kib={after} "
          f"bytes_per_connection={per_conn:.0f} projected_100k_mib={per_conn * 100000 / 2**20:.1f}")


if __name__ == "__main__":
    main()
