#!/usr/bin/env python3
"""Turns `wrk --latency` text output into httpkv-bench-style JSON (rps, latency_us p50/p99)."""
import json
import re
import sys

UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def us(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def main(path):
    out = {"requests": 0, "errors": 0, "non_2xx": 0, "rps": 0.0, "duration_s": 0.0,
           "latency_us": {}}
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.strip()
        m = re.match(r"(\d+) requests in ([\d.]+)(ms|s|m)", line)
        if m:
            out["requests"] = int(m.group(1))
            out["duration_s"] = us(m.group(2) + m.group(3)) / 1e6
        m = re.match(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            out["rps"] = float(m.group(1))
        m = re.match(r"(50|90|99)%\s+(\S+)", line)
        if m:
            out["latency_us"]["p" + m.group(1)] = us(m.group(2))
        m = re.match(r"Non-2xx or 3xx responses:\s+(\d+)", line)
        if m:
            out["non_2xx"] = int(m.group(1))
        m = re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line)
        if m:
            out["errors"] = sum(int(g) for g in m.groups())
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
