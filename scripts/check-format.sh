#!/usr/bin/env bash
# Fails (exit 1, naming each file and line) if a tracked C++ file differs from what
# clang-format makes of it with the repository's .clang-format. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run -Werror
echo "check-format: every tracked .cc/.h file is clang-formatted"
