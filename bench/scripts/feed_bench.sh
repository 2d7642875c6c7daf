#!/bin/bash
# Change feed numbers (issue 15), re-runnable alone on a quiet machine:
#   1. PUT throughput (closed loop) with 0 and with 100 watchers open — 0 watchers is the
#      same binary with the feed compiled in but unused;
#   2. event delivery latency (PUT answer received -> event received) at 10k PUT/s open loop
#      with 100 watchers;
#   3. server RSS per idle watcher (1,000 watchers).
# Usage: bench/scripts/feed_bench.sh [BUILD_BIN_DIR] [SECONDS]   (defaults: build/bin, 10)
set -euo pipefail
BIN=${1:-build/bin}
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
  rm -rf "$WORK/data"
  "$BIN/httpkv-server" --listen 127.0.0.1:0 --data-dir "$WORK/data" --threads 2 \
    --fsync everysec 2>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    ADDR=$(grep -o 'listening on [0-9.:]*' "$WORK/server.log" | awk '{print $3}' || true)
    [[ -n "$ADDR" ]] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=; }

bench() {  # name, extra flags...
  local name=$1; shift
  "$BIN/httpkv-bench" --target "$ADDR" --threads 1 --connections 32 --duration "${SECS}s" \
    --mix put=100 --keys 10000 --value-size 64 --json "$WORK/$name.json" "$@" >"$WORK/$name.txt"
  python3 - "$WORK/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
line = f"{sys.argv[2]}: {r['rps']:.0f} PUT/s, PUT p50 {r['latency_us']['p50']} us p99 {r['latency_us']['p99']} us"
if "feed" in r:
    f = r["feed"]; l = f["latency_us"]
    line += (f"; feed {f['watchers']} watchers, {f['events']} events, closed {f['closed']}, "
             f"event latency p50 {l['p50']} us p99 {l['p99']} us p99.9 {l['p999']} us max {l['max']} us")
print(line)
PY
}

echo "# feed_bench $(date -u +%FT%TZ) $(nproc) cores, ${SECS}s per run"
start_server
bench put_0_watchers --watchers 0
stop_server
start_server
bench put_100_watchers --watchers 100
stop_server
start_server
bench rate10k_100_watchers --watchers 100 --rate 10000
stop_server
start_server
python3 "$HERE/idle_watchers.py" "$SERVER_PID" "$ADDR" 1000
stop_server
