#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy) over every .cc of the libraries and tools, in
# parallel. Needs a configured build tree for compile_commands.json (configuring is enough:
# nothing is built). Usage: scripts/run-clang-tidy.sh [BUILD_DIR]   (default: build-clang)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-clang}
if [[ ! -f $build/compile_commands.json ]]; then
  echo "run-clang-tidy: no $build/compile_commands.json (run: cmake --preset clang)" >&2
  exit 2
fi
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
files=$(git ls-files 'reactor/*.cc' 'http/*.cc' 'storage/*.cc' 'server/*.cc' 'cluster/*.cc' \
  'tools/*.cc' | grep -v 'reactor/kqueue_poller.cc')  # the BSD backend: not built on Linux
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One file per clang-tidy process, nproc at a time; --quiet drops the per-file summary.
if ! printf '%s\n' $files | xargs -P "$(nproc)" -n 1 "$tidy" -p "$build" --quiet >"$log" 2>&1; then
  grep -E "(warning|error):" "$log" | sort -u
  echo "run-clang-tidy: findings above (checks: .clang-tidy)" >&2
  exit 1
fi
echo "run-clang-tidy: $(printf '%s\n' $files | wc -l) files clean"
