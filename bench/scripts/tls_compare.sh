#!/usr/bin/env bash
# bench/scripts/tls_compare.sh — HTTPS: httpkv-server against nginx with the same certificate.
#
# Makes a self-signed P-256 certificate, then for each round runs httpkv and nginx (one
# worker, `return 200` over https) pinned to --server-cpu, with httpkv-bench --tls pinned to
# --client-cpu, alternating the order (A B, B A, ...). Scenarios:
#   get-ka    GET keep-alive, 64 connections, pipeline 1
#   get-p16   GET pipelined 16 deep, 64 connections
#   handshake a new TLS connection per request (full handshake each; 16 connections)
# Reported per run: requests/s, server CPU seconds (utime+stime from /proc/PID/stat, all
# processes of the server) and requests (or handshakes) per server CPU-second, the number
# that does not depend on how much of the core the server got on a shared machine.
# kTLS: `--ktls both` runs httpkv with --tls-ktls on and off (nginx: ssl_conf_command
# Options KTLS) — meaningful only where the kernel offers kTLS ("tls" in
# /proc/sys/net/ipv4/tcp_available_ulp); elsewhere both variants write records in user space
# and the script says so.
#
# usage: bench/scripts/tls_compare.sh [--bin-dir DIR] [--duration S] [--rounds N]
#          [--server-cpu N] [--client-cpu N] [--ktls on|off|both] [--scenarios "get-ka ..."]
# Needs: httpkv-server and httpkv-bench (Release) in --bin-dir (default build/bin), nginx
# (nginx-light), openssl, taskset, jq.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN_DIR="$ROOT/build/bin"
DURATION=3
ROUNDS=2
SERVER_CPU=0
CLIENT_CPU=1
KTLS=on
SCENARIOS="get-ka get-p16 handshake"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    --ktls) KTLS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "tls_compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case $KTLS in on|off) KTLS_VARIANTS=$KTLS ;; both) KTLS_VARIANTS="on off" ;;
  *) echo "tls_compare.sh: --ktls on|off|both" >&2; exit 2 ;; esac

SERVER_BIN="$BIN_DIR/httpkv-server"
BENCH_BIN="$BIN_DIR/httpkv-bench"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for b in "$SERVER_BIN" "$BENCH_BIN" "$NGINX"; do [[ -x $b ]] || { echo "missing $b" >&2; exit 1; }; done
for c in openssl taskset jq; do command -v $c >/dev/null || { echo "missing $c" >&2; exit 1; }; done

WORK=$(mktemp -d /tmp/httpkv-tls-compare.XXXXXX)
SRV_PID=""
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
log() { printf '[tls_compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then
  KTLS_NOTE="kernel offers kTLS (tcp_available_ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp))"
else
  KTLS_NOTE="kernel does NOT offer kTLS (tcp_available_ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null || echo n/a)); on/off are the same code path here"
fi
log "$KTLS_NOTE"

wait_port() {
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
server_pids() { echo "$SRV_PID"; pgrep -P "$SRV_PID" 2>/dev/null || true; }
cpu_ticks() {  # user+sys ticks over the server's processes (each /proc/PID/stat covers its threads)
  local t=0 p f
  for p in $(server_pids); do
    [[ -r /proc/$p/stat ]] || continue
    read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat")
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}
stop_server() {
  [[ -n "$SRV_PID" ]] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

VALUE="value-0123456789abcdef"  # the body both servers answer (22 bytes)
RUN=0
start_server() {  # SYSTEM KTLS
  local sys=$1 ktls=$2 dir
  RUN=$((RUN + 1)); dir="$WORK/run-$RUN"; mkdir -p "$dir/tmp"
  case $sys in
    httpkv)
      SRV_PORT=18443
      taskset -c "$SERVER_CPU" "$SERVER_BIN" --listen 127.0.0.1:$SRV_PORT --data-dir "$dir/data" \
        --threads 1 --fsync never --log-level warn --tls-cert "$WORK/cert.pem" \
        --tls-key "$WORK/key.pem" --tls-ktls "$ktls" 2>"$dir/server.log" &
      ;;
    nginx)
      SRV_PORT=18444
      local ktls_line=""
      [[ $ktls == on ]] && ktls_line="ssl_conf_command Options KTLS;"
      cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$SRV_PORT ssl;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    $ktls_line
    location / { default_type application/octet-stream; return 200 "$VALUE"; }
  }
}
EOF
      taskset -c "$SERVER_CPU" "$NGINX" -p "$dir" -c "$dir/nginx.conf" 2>"$dir/server.log" &
      ;;
  esac
  SRV_PID=$!
  wait_port $SRV_PORT || { cat "$dir/server.log" >&2; echo "$sys did not start" >&2; exit 1; }
  if [[ $sys == httpkv ]]; then  # the key the GETs read, with nginx's body
    taskset -c "$CLIENT_CPU" "$BENCH_BIN" --target 127.0.0.1:$SRV_PORT --tls --cacert "$WORK/cert.pem" \
      -c 8 -t 1 -d 0.1s --keys 1000 --value-size ${#VALUE} --mix get=100 --no-progress >/dev/null
  fi
}

run_one() {  # SCENARIO SYSTEM KTLS ROUND
  local sc=$1 sys=$2 ktls=$3 round=$4 args
  args=(--target 127.0.0.1:$SRV_PORT --tls --cacert "$WORK/cert.pem" -t 1 --no-progress
        -d "${DURATION}s" --mix get=100 --json "$WORK/run.json")
  [[ $sys == nginx ]] && args+=(--path / --no-preload) || args+=(--keys 1000 --no-preload)
  case $sc in
    get-ka) args+=(-c 64 --pipeline 1) ;;
    get-p16) args+=(-c 64 --pipeline 16) ;;
    handshake) args+=(-c 16 --pipeline 1 --new-connection) ;;
  esac
  local t0 t1 hz; hz=$(getconf CLK_TCK)
  t0=$(cpu_ticks)
  taskset -c "$CLIENT_CPU" "$BENCH_BIN" "${args[@]}" >"$WORK/run.txt"
  t1=$(cpu_ticks)
  local ktls_used="-"
  if [[ $sys == httpkv ]]; then
    ktls_used=$(curl -s --cacert "$WORK/cert.pem" "https://127.0.0.1:$SRV_PORT/metrics" 2>/dev/null |
      awk '/^httpkv_tls_ktls_send_connections_total/ {print $2}')
  fi
  jq -r --arg sc "$sc" --arg sys "$sys" --arg k "$ktls" --arg r "$round" --arg used "${ktls_used:--}" \
    --argjson cpu "$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {printf "%.3f", (b-a)/hz}')" '
    (.requests) as $n | (if $sc == "handshake" then (.tls_handshakes // 0) else $n end) as $unit |
    [$sc, $sys, $k, $r, (.rps|floor), $cpu, (if $cpu > 0 then ($unit / $cpu | floor) else 0 end),
     .errors, $used] | @tsv' "$WORK/run.json"
}

printf 'scenario\tsystem\tktls\tround\treq/s\tserver_cpu_s\tper_cpu_s\terrors\tktls_conns\n'
for ((round = 1; round <= ROUNDS; round++)); do
  order="httpkv nginx"; ((round % 2 == 0)) && order="nginx httpkv"
  for sc in $SCENARIOS; do
    for ktls in $KTLS_VARIANTS; do
      for sys in $order; do
        log "round $round $sc $sys ktls=$ktls"
        start_server "$sys" "$ktls"
        run_one "$sc" "$sys" "$ktls" "$round"
        stop_server
      done
    done
  done
done
echo "# $KTLS_NOTE"
echo "# per_cpu_s: requests (handshake: TLS handshakes) per server CPU-second; ktls_conns: httpkv connections whose sends used kTLS"
