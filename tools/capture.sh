#!/usr/bin/env bash
# tools/capture.sh OUTDIR [httpkv-bench flags...]
#
# The original assignment's Wireshark check, automated. Starts httpkv-server on a free
# loopback port with a fresh data dir, captures that port on `lo` with dumpcap, runs
# `httpkv scenario` and then `httpkv-bench`, stops the server and then the capture, and checks
# with tshark's HTTP dissector that every request and response is in the capture.
#
# Writes OUTDIR/capture.pcapng, OUTDIR/frames.txt (frame list: No., Time, Source,
# Destination, Protocol, Length, Info, filtered to HTTP), OUTDIR/bench.json,
# OUTDIR/report.json, plus server.log, dumpcap.log, scenario.txt, bench.txt.
#
# Accounting (see README "Loopback capture"): requests_sent = 8 (scenario) + preloaded keys
# + bench requests (answered) + requests still in flight when the bench stopped (closed loop:
# exactly --connections x --pipeline, every connection keeps its pipe full). Those in-flight
# requests are in the capture, and the server may have answered some of them after the bench
# closed its sockets: such late answers are reported as late_responses and are not part of
# http_responses_in_capture, which counts the answers to the requests clients waited for
# (per measured stream at most requests - pipeline, all of them on the other streams).
# With --rate (open loop) the in-flight count is not known to the client; it is taken from
# the capture and only checked against its bound (connections x pipeline).
#
# Binaries: $HTTPKV_BIN_DIR (default: <repo>/build/bin), or one by one with
# $HTTPKV_SERVER_BIN, $HTTPKV_CLIENT_BIN, $HTTPKV_BENCH_BIN.
# Exit: 0 all checks passed; 1 a check or a step failed (one line says why);
#       2 usage error or missing tool.
set -uo pipefail

prog=capture
usage() {
  cat <<'EOF'
usage: tools/capture.sh OUTDIR [httpkv-bench flags...]
  Captures httpkv traffic on lo (scenario + httpkv-bench) and checks it with tshark.
  Default bench flags: --duration 3s --connections 4. The script sets --target and --json;
  --warmup is refused (warm-up answers are not counted in the bench JSON).
  Writes OUTDIR/{capture.pcapng,frames.txt,report.json,bench.json}.
  Env: HTTPKV_BIN_DIR (default <repo>/build/bin), HTTPKV_SERVER_BIN, HTTPKV_CLIENT_BIN,
       HTTPKV_BENCH_BIN, CAPTURE_BUFFER_MIB (dumpcap kernel buffer, default 128).
EOF
}
die_usage() { echo "$prog: $*" >&2; exit 2; }
fail() { echo "$prog: FAIL: $*" >&2; exit 1; }

[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in -h | --help) usage; exit 0 ;; -*) die_usage "first argument must be OUTDIR (got '$1')" ;; esac
outdir=$1
shift
bench_args=("$@")
[ ${#bench_args[@]} -eq 0 ] && bench_args=(--duration 3s --connections 4)
for a in "${bench_args[@]}"; do
  case "$a" in
    --target | --target=* | --json | --json=*) die_usage "do not pass $a: the script sets it" ;;
    --warmup | --warmup=*) die_usage "--warmup is not supported (its answers are not counted in bench.json)" ;;
  esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=${HTTPKV_BIN_DIR:-$repo/build/bin}
server_bin=${HTTPKV_SERVER_BIN:-$bin_dir/httpkv-server}
client_bin=${HTTPKV_CLIENT_BIN:-$bin_dir/httpkv}
bench_bin=${HTTPKV_BENCH_BIN:-$bin_dir/httpkv-bench}
for b in "$server_bin" "$client_bin" "$bench_bin"; do
  [ -x "$b" ] || die_usage "missing binary $b (build it, or set HTTPKV_BIN_DIR)"
done
for t in tshark:tshark dumpcap:wireshark-common capinfos:wireshark-common; do
  command -v "${t%%:*}" >/dev/null 2>&1 ||
    die_usage "${t%%:*} not found: install the Debian package ${t#*:} (scripts/install-deps.sh test)"
done

mkdir -p "$outdir" || die_usage "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/httpkv-capture.XXXXXX") || fail "mktemp failed"
server_pid="" dumpcap_pid=""
cleanup() {
  # Only our own children, by pid.
  [ -n "$dumpcap_pid" ] && kill -INT "$dumpcap_pid" 2>/dev/null && wait "$dumpcap_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pcap=$outdir/capture.pcapng
for f in capture.pcapng frames.txt report.json bench.json bench.txt scenario.txt server.log dumpcap.log; do
  rm -f "$outdir/$f"
  : >"$outdir/$f"  # created here, before any child writes to it: no stale lines to match
done
rm -f "$pcap"

# wait_for FILE PATTERN PID SECONDS: until PATTERN shows up in FILE (the real signal);
# gives up early if PID died.
wait_for() {
  local file=$1 pattern=$2 pid=$3 deadline=$((SECONDS + $4))
  while ! grep -q "$pattern" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# --- server -------------------------------------------------------------------------
"$server_bin" --listen 127.0.0.1:0 --data-dir "$work/data" 2>"$outdir/server.log" &
server_pid=$!
wait_for "$outdir/server.log" 'listening on ' "$server_pid" 20 ||
  fail "httpkv-server did not report 'listening on' ($(tail -n 1 "$outdir/server.log"))"
addr=$(grep -o 'listening on [0-9.]*:[0-9]*' "$outdir/server.log" | head -n 1 | sed 's/^listening on //')
port=${addr##*:}
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] || fail "cannot parse the port from: $addr"
target=127.0.0.1:$port

# --- capture ------------------------------------------------------------------------
# Whole packets (-s 65535), only this server's port, a large kernel buffer against drops.
dumpcap -i lo -f "tcp port $port" -s 65535 -B "${CAPTURE_BUFFER_MIB:-128}" -w "$pcap" \
  2>"$outdir/dumpcap.log" &
dumpcap_pid=$!
# dumpcap prints "File: NAME" once the device is open, the filter set and the file created.
wait_for "$outdir/dumpcap.log" '^File: ' "$dumpcap_pid" 20 ||
  fail "dumpcap did not start capturing: $(grep -v '^Capturing on' "$outdir/dumpcap.log" | head -n 1)"

# --- traffic ------------------------------------------------------------------------
"$client_bin" --target "$target" scenario >"$outdir/scenario.txt" 2>&1
scenario_rc=$?
"$bench_bin" --target "$target" --json "$outdir/bench.json" --no-progress "${bench_args[@]}" \
  >"$outdir/bench.txt" 2>&1
bench_rc=$?

# --- stop server, then capture -----------------------------------------------------
kill -TERM "$server_pid"
wait "$server_pid"
server_rc=$?
server_pid=""
# dumpcap gets packets from the kernel in blocks, and packets of a block that is not handed
# over yet are lost when it stops. So the end of the traffic is marked: with the server gone,
# a connect to its port is refused, and the kernel's RST (from the port, seq 0, RST+ACK, no
# options) is the capture's last packet. Once it is in the file, everything before it is.
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
marker=$(printf '%02x %02x [0-9a-f]{2} [0-9a-f]{2} 00 00 00 00( [0-9a-f]{2}){4} 50 14' \
  $((port >> 8)) $((port & 255)))
marker_seen() { tail -c 65536 "$pcap" | od -An -v -tx1 | tr -s ' \n' '  ' | grep -qE "$marker"; }
deadline=$((SECONDS + 20))
while ! marker_seen && [ $SECONDS -lt $deadline ] && kill -0 "$dumpcap_pid" 2>/dev/null; do
  sleep 0.05
done
marker_seen && marker_ok=true || marker_ok=false
kill -INT "$dumpcap_pid"
wait "$dumpcap_pid"
dumpcap_rc=$?
dumpcap_pid=""

[ $dumpcap_rc -eq 0 ] || fail "dumpcap exited $dumpcap_rc: $(tail -n 1 "$outdir/dumpcap.log")"
[ -s "$pcap" ] || fail "no capture file written"
$marker_ok || fail "the end-of-traffic marker never reached $pcap: the capture may be cut short"
# "Packets received/dropped on interface 'Loopback: lo': 307428/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0)"
stats=$(grep -o "Packets received/dropped on interface .*" "$outdir/dumpcap.log" | tail -n 1)
[ -n "$stats" ] || fail "dumpcap printed no drop statistics (see $outdir/dumpcap.log)"
read -r received dropped < <(sed -E 's#.*: ([0-9]+)/([0-9]+).*#\1 \2#' <<<"$stats")
ifdrop=$(sed -nE 's#.*ps_ifdrop:([0-9]+).*#\1#p' <<<"$stats")
dropped_packets=$((dropped + ${ifdrop:-0}))
packets_in_file=$(capinfos -M -c "$pcap" 2>/dev/null | sed -nE 's/^Number of packets: *([0-9]+).*/\1/p')

# --- dissect ------------------------------------------------------------------------
# A private, empty Wireshark profile: nobody's personal preferences change the result.
mkdir -p "$work/wireshark"
export WIRESHARK_CONFIG_DIR=$work/wireshark
ts_opts=(-n -r "$pcap" -d "tcp.port==$port,http"
  -o tcp.desegment_tcp_streams:TRUE -o tcp.analyze_sequence_numbers:TRUE
  -o http.desegment_headers:TRUE -o http.desegment_body:TRUE -o http.dechunk_body:TRUE)
columns='gui.column.format:"No.","%m","Time","%t","Source","%s","Destination","%d","Protocol","%p","Length","%L","Info","%i"'
{
  printf '%5s %-12s %-12s   %-12s %-8s %6s %s\n' No. Time Source Destination Protocol Length Info
  tshark "${ts_opts[@]}" -o "$columns" -Y http 2>"$work/tshark-frames.err"
} >"$outdir/frames.txt" &
frames_pid=$!
# One line per interesting frame: every HTTP PDU of the frame (pipelining packs many into
# one segment; -E occurrence=a lists them all), plus malformed/retransmitted/lost frames.
tshark "${ts_opts[@]}" -T fields -E occurrence=a -E aggregator=, -E separator=/t \
  -Y 'http || _ws.malformed || _ws.expert.severity == error || tcp.analysis.retransmission || tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment' \
  -e frame.number -e tcp.stream -e http.request.method -e http.response.code \
  -e _ws.malformed -e tcp.analysis.retransmission -e tcp.analysis.lost_segment \
  -e tcp.analysis.ack_lost_segment -e _ws.expert.severity \
  >"$work/fields.tsv" 2>"$work/tshark-fields.err"
fields_rc=$?
wait "$frames_pid"
frames_rc=$?
[ $fields_rc -eq 0 ] || fail "tshark failed: $(grep -v 'Running as user' "$work/tshark-fields.err" | head -n 1)"
[ $frames_rc -eq 0 ] || fail "tshark failed: $(grep -v 'Running as user' "$work/tshark-frames.err" | head -n 1)"

# Per stream: requests and responses (PDUs). Totals, the scenario's 16 PDUs in order.
awk -F'\t' -v out="$work/streams.txt" '
  function n(s,  a) { return s == "" ? 0 : split(s, a, ",") }
  {
    m = n($3); r = n($4)
    if (m + r > 0) {
      if (!($2 in req)) { order[++ns] = $2; req[$2] = 0; resp[$2] = 0 }
      req[$2] += m; resp[$2] += r; Q += m; P += r
      if (first == "") first = $2
      if (seq_n < 16) {
        k = split($3, a, ","); for (i = 1; i <= k && seq_n < 16; i++) { seq = seq (seq_n ? " " : "") $2 ":" a[i]; seq_n++ }
        k = split($4, a, ","); for (i = 1; i <= k && seq_n < 16; i++) { seq = seq (seq_n ? " " : "") $2 ":" a[i]; seq_n++ }
      }
    }
    if ($5 != "") malformed++
    if ($6 != "") retrans++
    if ($7 != "" || $8 != "") lost++
    if (index("," $9 ",", ",8388608,")) experr++
  }
  END {
    for (i = 1; i <= ns; i++) print order[i], req[order[i]], resp[order[i]] > out
    printf "Q=%d P=%d malformed=%d retrans=%d lost=%d experr=%d streams=%d first=%s\n", Q, P, malformed, retrans, lost, experr, ns, first
    printf "SEQ=%s\n", seq
  }' "$work/fields.tsv" >"$work/totals.txt"
eval "$(sed -n 1p "$work/totals.txt")"
scenario_seq=$(sed -n 's/^SEQ=//p' "$work/totals.txt")

# The walk-through: HEAD 200, POST 201, POST 201, PUT 405, GET 200, PUT 200, POST 404,
# GET 200 -- request then response, all on the first HTTP stream.
expect=""
for x in HEAD 200 POST 201 POST 201 PUT 405 GET 200 PUT 200 POST 404 GET 200; do
  expect="$expect${expect:+ }$first:$x"
done
scenario_ok=false
[ $scenario_rc -eq 0 ] && [ "$scenario_seq" = "$expect" ] && scenario_ok=true

# --- bench numbers ------------------------------------------------------------------
json_num() { grep -o "\"$1\": *[0-9.]*" "$outdir/bench.json" | head -n 1 | sed 's/.*: *//'; }
json_str() { grep -o "\"$1\": *\"[^\"]*\"" "$outdir/bench.json" | head -n 1 | sed 's/.*: *"//; s/"$//'; }
bench_requests=0 bench_errors=0 bench_reconnects=0 preload=0 conns=0 pipeline=1 mode=closed
if [ -s "$outdir/bench.json" ]; then
  bench_requests=$(json_num requests) bench_errors=$(json_num errors)
  bench_reconnects=$(json_num reconnects) preload=$(json_num preloaded_keys)
  conns=$(json_num connections) pipeline=$(json_num pipeline) mode=$(json_str mode)
fi
answered=$((8 + preload + bench_requests))

# Streams in order of their first packet: scenario, preload connections, then the
# measured connections (the last $conns HTTP streams).
meas_first=$((streams - conns + 1))
bad_streams=0 late=0 in_flight=0 resp_waited=0 i=0
while read -r _ q r; do
  i=$((i + 1))
  if [ $i -ge $meas_first ] && [ $i -gt 1 ]; then
    if [ "$mode" = closed ]; then
      # Exactly $pipeline requests were outstanding on this connection at the stop.
      waited=$((q - pipeline))
      if [ $waited -lt 0 ] || [ "$r" -lt $waited ] || [ "$r" -gt "$q" ]; then bad_streams=$((bad_streams + 1)); fi
      [ $waited -lt 0 ] && waited=0
      [ "$r" -gt $waited ] && late=$((late + r - waited)) && r=$waited
    fi
  elif [ "$q" -ne "$r" ]; then
    bad_streams=$((bad_streams + 1))
  fi
  resp_waited=$((resp_waited + r))
done < <(cat "$work/streams.txt" 2>/dev/null)
# Closed loop: the scenario stream and one stream per bench connection at least.
[ "$mode" = closed ] && [ "$streams" -lt $((conns + 1)) ] && bad_streams=$((bad_streams + 1))
if [ "$mode" = closed ]; then
  in_flight=$((conns * pipeline))
  in_flight_source=bench
  requests_sent=$((answered + in_flight))
  http_responses=$resp_waited
else
  # Open loop: the client does not know how many were in flight; the capture says.
  in_flight=$((Q - answered))
  in_flight_source=capture
  requests_sent=$Q
  late=$((P - answered))
  http_responses=$((P - late))
  [ $in_flight -ge 0 ] && [ $late -ge 0 ] && [ $late -le $in_flight ] &&
    [ $in_flight -le $((conns * pipeline)) ] || bad_streams=$((bad_streams + 1))
fi
responses_received=$answered

cat >"$outdir/report.json" <<EOF
{
  "requests_sent": $requests_sent,
  "responses_received": $responses_received,
  "http_requests_in_capture": $Q,
  "http_responses_in_capture": $http_responses,
  "malformed_frames": $malformed,
  "retransmissions": $retrans,
  "port": $port,
  "scenario_ok": $scenario_ok,
  "dropped_packets": $dropped_packets,
  "packets_captured": ${packets_in_file:-0},
  "bench_requests": $bench_requests,
  "bench_errors": ${bench_errors:-0},
  "bench_reconnects": ${bench_reconnects:-0},
  "bench_mode": "$mode",
  "bench_connections": $conns,
  "bench_pipeline": $pipeline,
  "preload_requests": $preload,
  "scenario_requests": 8,
  "in_flight_at_stop": $in_flight,
  "in_flight_source": "$in_flight_source",
  "late_responses": $late,
  "http_responses_in_capture_total": $P,
  "http_streams": $streams,
  "inconsistent_streams": $bad_streams,
  "lost_segments": $lost,
  "expert_errors": $experr
}
EOF

# --- verdict ------------------------------------------------------------------------
[ $scenario_rc -eq 0 ] || fail "httpkv scenario exited $scenario_rc (see $outdir/scenario.txt)"
$scenario_ok || fail "frames do not start with the scenario's 8 requests/answers on one stream: got '$scenario_seq'"
[ $bench_rc -eq 0 ] || fail "httpkv-bench exited $bench_rc: $(tail -n 1 "$outdir/bench.txt")"
[ -s "$outdir/bench.json" ] || fail "httpkv-bench wrote no JSON"
[ $server_rc -eq 0 ] || fail "httpkv-server exited $server_rc on SIGTERM (see $outdir/server.log)"
[ $dropped_packets -eq 0 ] || fail "dumpcap dropped $dropped_packets packets ($stats)"
[ "${packets_in_file:-x}" = "$received" ] || fail "capture file holds ${packets_in_file:-?} packets, dumpcap received $received"
[ "${bench_errors:-0}" -eq 0 ] && [ "${bench_reconnects:-0}" -eq 0 ] ||
  fail "httpkv-bench reported ${bench_errors} errors, ${bench_reconnects} reconnects: counts cannot be matched"
[ "$malformed" -eq 0 ] || fail "$malformed malformed frames (tshark -r $pcap -d tcp.port==$port,http -Y _ws.malformed)"
[ "$lost" -eq 0 ] || fail "$lost frames with segments missing from the capture"
[ "$requests_sent" -eq "$Q" ] || fail "requests_sent $requests_sent != http_requests_in_capture $Q"
[ "$responses_received" -eq "$http_responses" ] ||
  fail "responses_received $responses_received != http_responses_in_capture $http_responses"
[ $bad_streams -eq 0 ] || fail "$bad_streams TCP streams with requests and answers out of balance"
echo "$prog: OK port $port: $Q requests, $P responses in the capture ($requests_sent sent, $responses_received answered, $late answered after the bench stopped), 0 malformed, 0 dropped; $outdir/report.json"
