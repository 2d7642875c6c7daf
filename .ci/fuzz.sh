#!/usr/bin/env bash
# Builds the libFuzzer parser target with clang (ASan+UBSan) in its own build dir and runs
# it for $1 seconds (default 60) on the committed seed corpus. Exits non-zero on a crash,
# a sanitizer report or a split-dependent parse (the target aborts).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DHTTPKV_FUZZ=ON -DHTTPKV_SANITIZE=address,undefined \
  -DHTTPKV_BUILD_TESTS=OFF -DHTTPKV_BUILD_BENCH=OFF
cmake --build "$build" --target fuzz_parser -j"$(nproc)"

# New inputs go to a scratch corpus; the committed seeds are only read.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
status=0
"$build/bin/fuzz_parser" -max_total_time="$seconds" -dict=fuzz/http.dict \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "$work/corpus" fuzz/corpus/parser || status=$?
if compgen -G "$work/artifacts/*" > /dev/null; then
  mkdir -p fuzz-artifacts
  cp "$work"/artifacts/* fuzz-artifacts/
  echo "fuzz_parser: crash inputs copied to fuzz-artifacts/" >&2
  exit 1
fi
exit "$status"
