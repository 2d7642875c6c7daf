#!/bin/bash
# Issue 21 items 3 and 4, re-runnable alone on a quiet machine (nothing else running: the
# tail of the write latency is what is measured):
#   1. write latency while an index grows: max / p99.9 / p99 of every KeyIndex::Upsert while
#      inserting 1M and 10M random-order 16-byte keys (and LogStore::Put at 1M), plus the
#      index's reported bytes per key at the end;
#   2. index bytes per key (heap measured) at 1M keys;
#   3. start-up (Open) of a store with 1M and 10M random-order keys, with and without hint
#      files (keys/s, MB/s scanned), and the index's bulk load vs one key at a time.
# Needs ~3 GiB of RAM and ~1.5 GiB under $TMPDIR. Takes a few minutes.
# Usage: bench/scripts/index_growth_bench.sh [BUILD_BIN_DIR]   (default: build/bin)
#   build first: cmake --preset release && cmake --build build -j2 --target \
#     storage_index_latency_bench storage_index_bench storage_recovery_keys_bench
set -euo pipefail
BIN=${1:-build/bin}
FLAGS=(--benchmark_counters_tabular=true)
echo "== 1. write latency while growing"
"$BIN/storage_index_latency_bench" "${FLAGS[@]}"
echo "== 2. bytes per key at 1M"
"$BIN/storage_index_bench" "${FLAGS[@]}" --benchmark_filter='BM_IndexBytesPerKey'
echo "== 3. start-up with many keys"
"$BIN/storage_recovery_keys_bench" "${FLAGS[@]}"
