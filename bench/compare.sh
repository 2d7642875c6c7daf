#!/usr/bin/env bash
# bench/compare.sh — httpkv against its peers (limit server, nginx, Redis) on one machine.
#
# Builds Release, installs missing peers with apt-get, then measures every scenario with the
# server pinned to one core and the load generator pinned to another (taskset), 2+ rounds per
# system in alternating order (A B C A B C), and writes
#   bench/results/<date>-<host>.md              table, ratios, machine, command line
#   bench/results/<date>-<host>-throughput.png  rps bars per scenario (gnuplot)
#   bench/results/<date>-<host>-latency.png     open-loop latency percentiles
# Raw per-run files stay in a temp dir (printed; --keep keeps it). See bench/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/bench/compare"

DURATION=3            # seconds per measured run
ROUNDS=2
SERVER_CPU=0
CLIENT_CPU=1
CONNS=64
BUILD_DIR=""
BIN_DIR=""
OUT_DIR="$ROOT/bench/results"
LIMIT_SRC="${LIMIT_SRC:-$ROOT/../shared/anchors/limit_server.c}"
INSTALL=1
PROFILE=auto          # auto | none | scenario id (e.g. get-ka)
SCENARIOS="get-ka get-p16 get-p16-wrk put-never put-everysec put-everysec-p16 put-always post-create mixed latency"
KEEP=0

usage() {
  cat <<EOF
usage: bench/compare.sh [options]
  --duration S        seconds per measured run (default $DURATION)
  --rounds N          rounds per system, alternating order (default $ROUNDS)
  --scenarios "A B"   subset of: $SCENARIOS
  --build-dir DIR     CMake build dir (default $ROOT/build-compare)
  --bin-dir DIR       use prebuilt httpkv-server/httpkv-bench from DIR, skip the build
  --out-dir DIR       where results go (default bench/results)
  --server-cpu N      core for servers (default $SERVER_CPU)
  --client-cpu N      core for load generators (default $CLIENT_CPU)
  --profile X         auto (worst httpkv/peer CPU-efficiency ratio), none, or a scenario id
  --no-install        do not apt-get missing peers
  --keep              keep the temp dir with raw JSON/logs
EOF
}

ORIG_ARGS="$*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --out-dir) OUT_DIR=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
CMDLINE="bench/compare.sh${ORIG_ARGS:+ $ORIG_ARGS}"

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- dependencies
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
need_pkgs=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx-light)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v redis-benchmark >/dev/null || need_pkgs+=(redis-tools)
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v gnuplot >/dev/null || need_pkgs+=(gnuplot-nox)
command -v gcc >/dev/null || need_pkgs+=(gcc)
command -v taskset >/dev/null || need_pkgs+=(util-linux)
command -v python3 >/dev/null || need_pkgs+=(python3)
command -v cmake >/dev/null || need_pkgs+=(cmake)
command -v jq >/dev/null || need_pkgs+=(jq)
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  [[ $INSTALL -eq 1 ]] || die "missing: ${need_pkgs[*]} (run without --no-install)"
  log "installing ${need_pkgs[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need_pkgs[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ $(nproc) -ge 2 ]] || log "warning: only $(nproc) core(s); server and client share a core"

# ---------------------------------------------------------------- build
SOURCE_NOTE="working tree"
if [[ -z "$BIN_DIR" ]]; then
  BUILD_DIR=${BUILD_DIR:-$ROOT/build-compare}
  log "building Release in $BUILD_DIR"
  if ! { cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$BUILD_DIR.log" 2>&1 &&
         cmake --build "$BUILD_DIR" -j"$(nproc)" --target httpkv-server httpkv-bench \
           >>"$BUILD_DIR.log" 2>&1; }; then
    die "build failed, see $BUILD_DIR.log (or pass --bin-dir with prebuilt binaries)"
  fi
  BIN_DIR="$BUILD_DIR/bin"
else
  SOURCE_NOTE="prebuilt binaries from $BIN_DIR"
fi
SERVER_BIN="$BIN_DIR/httpkv-server"
BENCH_BIN="$BIN_DIR/httpkv-bench"
[[ -x $SERVER_BIN && -x $BENCH_BIN ]] || die "no httpkv-server/httpkv-bench in $BIN_DIR"

WORK=$(mktemp -d /tmp/httpkv-compare.XXXXXX)
RAW="$WORK/raw.jsonl"
: >"$RAW"
[[ -f $LIMIT_SRC ]] || die "limit server source not found: $LIMIT_SRC (set LIMIT_SRC)"
gcc -O2 -o "$WORK/limit_server" "$LIMIT_SRC"

# ---------------------------------------------------------------- process helpers
SRV_PID=""
SRV_PORT=""
cleanup() {
  stop_server || true
  if [[ $KEEP -eq 1 ]]; then log "raw files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # PORT: until something accepts on 127.0.0.1:PORT (10 s)
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# All pids of the server: the process and its children (nginx workers).
server_pids() { echo "$SRV_PID"; pgrep -P "$SRV_PID" 2>/dev/null || true; }

# "user_ticks sys_ticks" summed over the server's processes (/proc/PID/stat covers all threads).
cpu_ticks() {
  local u=0 s=0 p f
  for p in $(server_pids); do
    [[ -r /proc/$p/stat ]] || continue
    read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat")
    u=$((u + f[11])); s=$((s + f[12]))
  done
  echo "$u $s"
}

stop_server() {
  [[ -n "$SRV_PID" ]] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

RUN_SEQ=0
# start_server SYSTEM VARIANT: httpkv (variant = fsync policy), limit, nginx,
# redis (variant = none | no | everysec | always: appendonly off, or appendfsync X).
start_server() {
  local sys=$1 var=${2:-}
  RUN_SEQ=$((RUN_SEQ + 1))
  local dir="$WORK/run-$RUN_SEQ-$sys"
  mkdir -p "$dir"
  case $sys in
    httpkv)
      SRV_PORT=18080
      port_free $SRV_PORT || die "port $SRV_PORT busy"
      taskset -c "$SERVER_CPU" "$SERVER_BIN" --listen 127.0.0.1:$SRV_PORT --data-dir "$dir/data" \
        --threads 1 --fsync "${var:-everysec}" --log-level warn 2>"$dir/server.log" &
      ;;
    limit)
      SRV_PORT=18090
      port_free $SRV_PORT || die "port $SRV_PORT busy"
      taskset -c "$SERVER_CPU" "$WORK/limit_server" $SRV_PORT 2>"$dir/server.log" &
      ;;
    nginx)
      SRV_PORT=18091
      port_free $SRV_PORT || die "port $SRV_PORT busy"
      mkdir -p "$dir/tmp"
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
    listen 127.0.0.1:$SRV_PORT;
    location / {
      default_type application/octet-stream;
      return 200 "value-0123456789abcdef";
    }
  }
}
EOF
      taskset -c "$SERVER_CPU" "$NGINX" -p "$dir" -c "$dir/nginx.conf" 2>"$dir/server.log" &
      ;;
    redis)
      SRV_PORT=16379
      port_free $SRV_PORT || die "port $SRV_PORT busy"
      local aof=(--appendonly no)
      [[ -n "$var" && "$var" != none ]] && aof=(--appendonly yes --appendfsync "$var")
      taskset -c "$SERVER_CPU" redis-server --port $SRV_PORT --bind 127.0.0.1 --save '' \
        --dir "$dir" --logfile "$dir/server.log" --protected-mode no "${aof[@]}" &
      ;;
    *) die "unknown system $sys" ;;
  esac
  SRV_PID=$!
  wait_port $SRV_PORT || { cat "$dir/server.log" >&2; die "$sys did not start"; }
  SRV_DIR=$dir
}

# httpkv-bench pinned to the client core against the running server.
hbench() {
  taskset -c "$CLIENT_CPU" "$BENCH_BIN" --target 127.0.0.1:$SRV_PORT -c "$CONNS" -t 1 \
    --no-progress "$@"
}

# rb_rps CSVFILE -> rps of the first data row
csv_field() { awk -F'"' -v col="$2" 'NR==2 {print $(2*col)}' "$1"; }

# record SCENARIO SYSTEM ROUND TOOL JSONFRAGMENT: one line of raw.jsonl
record() {
  printf '{"scenario":"%s","system":"%s","round":%d,"tool":"%s",%s}\n' "$1" "$2" "$3" "$4" "$5" >>"$RAW"
}

# measure SCENARIO SYSTEM ROUND: one measured run (fresh server), appended to raw.jsonl.
measure() {
  local sc=$1 sys=$2 round=$3
  local get_args=(--mix get=100 --keys 10000 --value-size 22 --zipf 0)
  local fs="" rvar=none tool=httpkv-bench path="" pipe=1 preload=0 warm=1 rate=""
  local args=() rb=() wrk_url=""
  case $sc in
    get-ka|get-p16|get-p16-wrk|latency)
      [[ $sc == get-p16* ]] && pipe=16
      [[ $sc == latency ]] && rate=$LAT_RATE
      case $sys in
        httpkv) fs=never; preload=1; args=("${get_args[@]}") ;;
        limit|nginx) args=("${get_args[@]}" --path /) ;;
        redis) rb=(-t get -r 10000 -d 22) ;;
        httpkv-wrk) fs=never; preload=1; tool=wrk; wrk_url="/kv/key-1" ;;
        nginx-wrk|limit-wrk) tool=wrk; wrk_url="/" ;;
      esac ;;
    put-*)
      fs=${sc#put-}
      [[ $fs == *-p16 ]] && { fs=${fs%-p16}; pipe=16; }
      case $sys in
        httpkv) args=(--mix put=100 --keys 100000 --value-size 22 --zipf 0) ;;
        redis) rvar=$([[ $fs == never ]] && echo no || echo "$fs"); rb=(-t set -r 100000 -d 22) ;;
      esac ;;
    post-create)
      fs=everysec; warm=0
      case $sys in
        httpkv) args=(--mix post=100 --keys 100000 --value-size 22 --zipf 0) ;;
        redis) rvar=everysec; warm=0
               rb=(-r 100000 SETNX key:__rand_int__ value-0123456789abcdef) ;;
      esac ;;
    mixed)
      fs=everysec; preload=1
      args=(--mix get=90,put=10 --keys 100000 --value-size 22 --zipf 0.99) ;;
  esac
  local base=${sys%-wrk}
  start_server "$base" "$([[ $base == redis ]] && echo "$rvar" || echo "$fs")"
  local d=$SRV_DIR
  if [[ $sys == redis ]]; then tool=redis-benchmark; fi

  # preload + warm-up (not measured, not counted in CPU)
  if [[ $preload -eq 1 ]]; then
    [[ ${#args[@]} -gt 0 ]] || args=("${get_args[@]}")
    hbench "${args[@]}" -d 0.5s >"$d/warm.txt" 2>&1 \
      || die "warm-up failed for $sc/$sys (see $d/warm.txt)"
  elif [[ $warm -eq 1 && $tool == httpkv-bench ]]; then
    hbench "${args[@]}" --no-preload -d 0.5s >"$d/warm.txt" 2>&1 || die "warm-up failed for $sc/$sys"
  fi
  local n=0
  if [[ $tool == redis-benchmark ]]; then
    # redis-benchmark runs a request count, not a time: calibrate from a short run
    if [[ $sc == get-* ]]; then  # preload the GET key space
      taskset -c "$CLIENT_CPU" redis-benchmark -p $SRV_PORT -c "$CONNS" -P 16 -n 200000 -t set -r 10000 -d 22 -q >/dev/null
    fi
    local cal=20000
    taskset -c "$CLIENT_CPU" redis-benchmark -p $SRV_PORT -c "$CONNS" -P "$pipe" -n $cal --csv "${rb[@]}" >"$d/cal.csv"
    n=$(awk -v r="$(csv_field "$d/cal.csv" 2)" -v t="$DURATION" 'BEGIN {printf "%d", r * t}')
    if [[ $sc == post-create ]]; then  # SETNX must start from an empty store
      stop_server; start_server redis "$rvar"; d=$SRV_DIR
    fi
  fi

  local t0 t1 c0 c1 client_cpu
  local cmd=()
  case $tool in
    httpkv-bench)
      cmd=(taskset -c "$CLIENT_CPU" "$BENCH_BIN" --target 127.0.0.1:$SRV_PORT -c "$CONNS" -t 1 --no-progress
           "${args[@]}" --no-preload -d "${DURATION}s" --pipeline "$pipe" --json "$d/run.json")
      [[ -z "$rate" ]] || cmd+=(--rate "$rate") ;;
    redis-benchmark)
      cmd=(taskset -c "$CLIENT_CPU" redis-benchmark -p $SRV_PORT -c "$CONNS" -P "$pipe" -n "$n" --csv "${rb[@]}") ;;
    wrk)
      cmd=(env WRK_PIPELINE="$pipe" taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency)
      [[ $pipe -le 1 ]] || cmd+=(-s "$HERE/pipeline.lua")
      cmd+=("http://127.0.0.1:$SRV_PORT$wrk_url") ;;
  esac
  read -r -a c0 < <(cpu_ticks)
  t0=$(date +%s.%N)
  # bash's time keyword gives the client's own CPU (user + sys) for the "client core" column
  if ! { TIMEFORMAT='%3U %3S'; time "${cmd[@]}" >"$d/run.txt" 2>"$d/run.err"; } 2>"$d/client.time"; then
    cat "$d/run.txt" "$d/run.err" >&2
    die "$tool failed for $sc/$sys"
  fi
  t1=$(date +%s.%N)
  read -r -a c1 < <(cpu_ticks)
  client_cpu=$(awk '{print $1 + $2}' "$d/client.time")
  local hz; hz=$(getconf CLK_TCK)
  local cpu_frag
  cpu_frag=$(awk -v u0="${c0[0]}" -v s0="${c0[1]}" -v u1="${c1[0]}" -v s1="${c1[1]}" -v hz="$hz" \
    -v t0="$t0" -v t1="$t1" -v cc="$client_cpu" \
    'BEGIN {printf "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"wall_s\":%.3f,\"client_cpu_s\":%.3f", (u1-u0)/hz, (s1-s0)/hz, t1-t0, cc}')
  stop_server

  case $tool in
    httpkv-bench)
      record "$sc" "$sys" "$round" "$tool" "$cpu_frag,\"result\":$(jq -c . "$d/run.json")" ;;
    redis-benchmark)
      local rps p50 p99
      cp "$d/run.txt" "$d/run.csv"
      rps=$(csv_field "$d/run.csv" 2); p50=$(csv_field "$d/run.csv" 5); p99=$(csv_field "$d/run.csv" 7)
      record "$sc" "$sys" "$round" "$tool" "$cpu_frag,\"result\":{\"requests\":$n,\"errors\":0,\"non_2xx\":null,\"rps\":$rps,\"duration_s\":$(awk -v n="$n" -v r="$rps" 'BEGIN{printf "%.3f", n/r}'),\"latency_us\":{\"p50\":$(awk -v x="$p50" 'BEGIN{print x*1000}'),\"p99\":$(awk -v x="$p99" 'BEGIN{print x*1000}')}}" ;;
    wrk)
      record "$sc" "$sys" "$round" "$tool" "$cpu_frag,\"result\":$(python3 "$HERE/parse_wrk.py" "$d/run.txt")" ;;
  esac
  log "$sc $sys round $round: $(tail -n 1 "$RAW" | jq -r '"\(.result.rps|floor) rps, p50 \(.result.latency_us.p50) us, cpu \(.cpu_user_s + .cpu_sys_s) s"')"
}

# run_scenario SCENARIO SYSTEM...: ROUNDS rounds, systems alternating within each round.
run_scenario() {
  local sc=$1; shift
  local r s
  for r in $(seq 1 "$ROUNDS"); do
    for s in "$@"; do measure "$sc" "$s" "$r"; done
  done
}

# ---------------------------------------------------------------- scenarios
START=$(date +%s)
LAT_RATE=""
for sc in $SCENARIOS; do
  log "scenario $sc"
  case $sc in
    get-ka) run_scenario get-ka httpkv limit nginx redis httpkv-wrk nginx-wrk ;;
    get-p16) run_scenario get-p16 httpkv limit nginx redis ;;
    get-p16-wrk) run_scenario get-p16-wrk httpkv-wrk limit-wrk ;;
    put-never|put-everysec|put-everysec-p16|put-always) run_scenario "$sc" httpkv redis ;;
    post-create) run_scenario post-create httpkv redis ;;
    mixed) run_scenario mixed httpkv ;;
    latency)
      # open loop at half of what the slower of httpkv and nginx sustains closed-loop
      LAT_RATE=$(python3 "$HERE/report.py" latency-rate "$RAW" || true)
      [[ -n "$LAT_RATE" ]] || LAT_RATE=10000
      log "open-loop rate $LAT_RATE req/s"
      run_scenario latency httpkv nginx limit ;;
    *) die "unknown scenario $sc" ;;
  esac
done

# ---------------------------------------------------------------- profile
PROFILE_FILE=""
if [[ "$PROFILE" != none ]] && command -v perf >/dev/null; then
  psc=$PROFILE
  [[ $psc == auto ]] && psc=$(python3 "$HERE/report.py" worst "$RAW" || true)
  if [[ -n "$psc" ]]; then
    log "profiling httpkv in $psc (perf record -e task-clock -g, 4 s)"
    SAVED_DURATION=$DURATION
    DURATION=6
    # run the scenario once more in the background and attach perf to the server meanwhile
    ( trap - EXIT; measure "$psc" httpkv 99 ) &
    mpid=$!
    for _ in $(seq 1 100); do
      spid=$(pgrep -n -f -- "httpkv-server --listen 127.0.0.1:18080" || true)
      [[ -n "$spid" ]] && break; sleep 0.05
    done
    sleep 1.5   # past preload and warm-up
    if [[ -n "$spid" ]]; then
      perf record -e task-clock -g -p "$spid" -o "$WORK/perf.data" -- sleep 4 >/dev/null 2>&1 || true
    fi
    wait "$mpid" || true
    DURATION=$SAVED_DURATION
    # drop the profiling run from the results
    grep -v '"round":99' "$RAW" >"$RAW.tmp" && mv "$RAW.tmp" "$RAW"
    if [[ -s "$WORK/perf.data" ]]; then
      perf report -i "$WORK/perf.data" --stdio 2>/dev/null | head -60 >"$WORK/perf-report.txt" || true
      perf report -i "$WORK/perf.data" --stdio --no-children --sort sym -g none --percent-limit 0 \
        2>/dev/null | grep -v '^#' | grep -v '^$' >"$WORK/perf-flat.txt" || true
      PROFILE_FILE="$WORK/perf-flat.txt"
      echo "$psc" >"$WORK/perf-scenario"
    fi
  fi
fi

# ---------------------------------------------------------------- report
END=$(date +%s)
mkdir -p "$OUT_DIR"
STEM="$OUT_DIR/$(date +%F)-$(hostname -s)"
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || GIT_REV="$GIT_REV (+ uncommitted changes)"
jq -n \
  --arg cmdline "$CMDLINE" --arg date "$(date -u +'%F %T UTC')" --arg host "$(hostname -s)" \
  --arg nproc "$(nproc)" --arg kernel "$(uname -r)" \
  --arg cpu "$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')" \
  --arg mem "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
  --arg git "$GIT_REV" --arg source "$SOURCE_NOTE" \
  --arg nginx "$("$NGINX" -v 2>&1 | sed 's/.*version: nginx\///')" \
  --arg redis "$(redis-server --version | awk '{print $3}' | sed 's/v=//')" \
  --arg wrk "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" \
  --arg gcc "$(gcc -dumpfullversion)" \
  --arg duration "$DURATION" --arg rounds "$ROUNDS" --arg conns "$CONNS" \
  --arg server_cpu "$SERVER_CPU" --arg client_cpu "$CLIENT_CPU" --arg lat_rate "$LAT_RATE" \
  --arg runtime_s "$((END - START))" \
  --arg profile_scenario "$(cat "$WORK/perf-scenario" 2>/dev/null || true)" \
  '$ARGS.named' >"$WORK/meta.json"
python3 "$HERE/report.py" write "$RAW" "$WORK/meta.json" "$STEM" ${PROFILE_FILE:+"$PROFILE_FILE"}
log "done in $((END - START)) s: $STEM.md"
if [[ -f "$WORK/perf-report.txt" ]]; then
  log "perf report --stdio (first 60 lines) in $WORK/perf-report.txt (kept with --keep)"
fi
exit 0
