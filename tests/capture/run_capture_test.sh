#!/usr/bin/env bash
# CTest wrapper for tools/capture.sh (label: capture).
# Usage: run_capture_test.sh CAPTURE_SH SERVER_BIN CLIENT_BIN BENCH_BIN [bench flags...]
# Exits 77 (CTest SKIP_RETURN_CODE) with the reason when the capture cannot run here:
# not root / no CAP_NET_RAW, tshark, dumpcap or capinfos missing, httpkv-bench not built.
set -uo pipefail
skip() { echo "SKIPPED: $*"; exit 77; }

[ $# -ge 4 ] || { echo "usage: $0 CAPTURE_SH SERVER_BIN CLIENT_BIN BENCH_BIN [bench flags...]" >&2; exit 2; }
capture_sh=$1 server_bin=$2 client_bin=$3 bench_bin=$4
shift 4

[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root (running as uid $(id -u))"
# Root in a container may still lack CAP_NET_RAW (bit 13 of the effective set).
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status 2>/dev/null)
if [ -n "$capeff" ] && [ $(((16#$capeff >> 13) & 1)) -eq 0 ]; then
  skip "no CAP_NET_RAW in this environment (CapEff=$capeff)"
fi
for t in tshark dumpcap capinfos; do
  command -v "$t" >/dev/null 2>&1 || skip "$t not installed (apt-get install tshark wireshark-common, or scripts/install-deps.sh test)"
done
[ -n "$bench_bin" ] && [ -x "$bench_bin" ] || skip "httpkv-bench not built (configure with -DHTTPKV_BUILD_BENCH=ON)"

out=$(mktemp -d "${TMPDIR:-/tmp}/httpkv-capture-test.XXXXXX")
HTTPKV_SERVER_BIN=$server_bin HTTPKV_CLIENT_BIN=$client_bin HTTPKV_BENCH_BIN=$bench_bin \
  "$capture_sh" "$out" "$@"
rc=$?
failed=0
check() { echo "FAIL: $*"; failed=1; }
[ $rc -eq 0 ] || check "tools/capture.sh exited $rc"

report=$out/report.json
num() { grep -oE "\"$1\": *-?[0-9]+" "$report" 2>/dev/null | head -n 1 | sed 's/.*: *//'; }
for k in requests_sent responses_received http_requests_in_capture http_responses_in_capture \
  malformed_frames retransmissions; do
  [ -n "$(num "$k")" ] || check "report.json lacks \"$k\""
done
if [ $failed -eq 0 ]; then
  [ "$(num requests_sent)" -eq "$(num http_requests_in_capture)" ] || check "requests_sent != http_requests_in_capture"
  [ "$(num responses_received)" -eq "$(num http_responses_in_capture)" ] || check "responses_received != http_responses_in_capture"
  [ "$(num malformed_frames)" -eq 0 ] || check "malformed frames"
  [ "$(num requests_sent)" -gt 8 ] || check "the bench sent nothing"
  # frames.txt: header, then the walk-through's 8 requests and 8 answers in order.
  codes=$(sed -n '3~2p' "$out/frames.txt" | head -n 8 | grep -oE 'HTTP/1\.1 [0-9]{3}' | cut -d' ' -f2 | paste -sd,)
  [ "$codes" = "200,201,201,405,200,200,404,200" ] || check "frames.txt statuses of the scenario: '$codes'"
fi
[ -f "$report" ] && cat "$report"
if [ $failed -eq 0 ]; then
  rm -rf "$out"
  echo "PASS"
else
  echo "outputs kept in $out"
  exit 1
fi
