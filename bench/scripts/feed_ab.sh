#!/usr/bin/env bash
# A/B of two httpkv-server binaries on the PUT path (used for "what the change feed costs with
# no watcher": the binary before the feed vs the one with it). Closed loop, 32 connections,
# 100% PUT of 64-byte values over 10,000 keys, --fsync everysec; the server runs --threads 1
# pinned to core 0, httpkv-bench on core 1; ROUNDS alternating 2 s rounds (A B A B ...).
# Prints, per run: label, PUT/s, PUT per server CPU-second (utime+stime from /proc/PID/stat).
# usage: A=old/httpkv-server B=new/httpkv-server [BENCH=build/bin/httpkv-bench] [ROUNDS=5] \
#          bench/scripts/feed_ab.sh
set -euo pipefail
: "${A:?A=path of the first httpkv-server}" "${B:?B=path of the second httpkv-server}"
BENCH=${BENCH:-build/bin/httpkv-bench}
ROUNDS=${ROUNDS:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run() {  # binary label
  rm -rf "$WORK/data"
  taskset -c 0 "$1" --listen 127.0.0.1:0 --data-dir "$WORK/data" --threads 1 \
    --fsync everysec 2>"$WORK/server.log" &
  local pid=$! addr=""
  for _ in $(seq 100); do
    addr=$(grep -o 'listening on [0-9.:]*' "$WORK/server.log" | awk '{print $3}' || true)
    [[ -n $addr ]] && break
    sleep 0.05
  done
  local t0 t1
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  taskset -c 1 "$BENCH" --target "$addr" --threads 1 --connections 32 --duration 2s \
    --mix put=100 --keys 10000 --value-size 64 --json "$WORK/r.json" >/dev/null
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"
  wait "$pid" || true
  python3 - "$WORK/r.json" "$2" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (float(sys.argv[4]) - float(sys.argv[3])) / float(sys.argv[5])
print(sys.argv[2], round(r["rps"]), round(r["requests"] / cpu) if cpu > 0 and "requests" in r
      else round(r["rps"] * 2 / cpu) if cpu > 0 else 0)
PY
}

for _ in $(seq "$ROUNDS"); do
  run "$A" A
  run "$B" B
done
