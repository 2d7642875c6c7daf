#!/usr/bin/env bash
# Installs the Debian packages httpkv builds, tests and benchmarks with. Idempotent:
# packages already present are skipped and apt-get runs only when something is missing.
# Usage: scripts/install-deps.sh [build|test|fuzz|clang|lint|all]   (default: test)
set -euo pipefail

profile=${1:-test}
# libssl-dev: OpenSSL 3 for HTTPS (reactor/tls_*, the client, httpkv-bench).
build_pkgs=(cmake make g++ libfmt-dev libspdlog-dev libcli11-dev libssl-dev)
# tshark + wireshark-common (dumpcap, capinfos): the `capture` tests (tools/capture.sh).
# haproxy (2.6, with Lua) + python3: the `cluster` tests (tools/cluster.sh).
# openssl (the CLI): the `tls` tests make their certificates with `openssl req`.
# iproute2 (ip): the protected-mode test puts a client in a network namespace (skipped without).
# nftables (nft): the replication partition tests cut members apart on loopback.
# etcd-server (/usr/bin/etcd, 3.4): the `replication` tests run real etcd members for the
# leader-election client (server/etcd); they are skipped without it.
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev tshark wireshark-common haproxy python3
  openssl iproute2 etcd-server nftables)
fuzz_pkgs=(clang libclang-rt-14-dev)  # libFuzzer + sanitizer runtimes for .ci/fuzz.sh
clang_pkgs=(clang clang-tidy)  # the `clang` preset (clang++ -Wthread-safety) and scripts/run-clang-tidy.sh
lint_pkgs=(clang-format git)           # scripts/check-format.sh (.ci/run)
extra_pkgs=(wrk nginx-light redis-server gnuplot-nox)

case "$profile" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  fuzz) want=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  clang) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${clang_pkgs[@]}") ;;
  lint) want=("${lint_pkgs[@]}") ;;
  all) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}" "${lint_pkgs[@]}"
    "${extra_pkgs[@]}") ;;
  *) echo "install-deps: unknown profile '$profile' (build|test|fuzz|clang|lint|all)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
