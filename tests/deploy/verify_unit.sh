#!/bin/sh
# Runs `systemd-analyze verify` on the configured systemd unit (deploy/httpkv.service.in
# after configure_file), with ExecStart pointed at the binary just built: verify checks
# that the command exists, and the install path may not exist yet.
# usage: verify_unit.sh CONFIGURED_UNIT INSTALLED_BIN BUILT_BIN
# Exit 77 (skip) without systemd-analyze; 1 on any complaint from it.
set -u
unit=$1 installed=$2 built=$3
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not installed (apt-get install systemd)"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
sed "s|$installed|$built|g" "$unit" >"$tmp/httpkv.service" || exit 1
if ! grep -q "^ExecStart=$built " "$tmp/httpkv.service"; then
  echo "FAIL: ExecStart does not run $installed"
  exit 1
fi
verify() {
  out=$(systemd-analyze verify "$1" 2>&1)
  rc=$?
  # Complaints about the unit itself name its file; anything else is the host's business.
  mine=$(printf '%s\n' "$out" | grep -F "httpkv.service")
  if [ $rc -ne 0 ] || [ -n "$mine" ]; then
    printf 'FAIL: systemd-analyze verify %s (exit %s):\n%s\n' "$2" "$rc" "$out"
    exit 1
  fi
}
verify "$tmp/httpkv.service" "as shipped"
# The commented security options (tokens, TLS credentials) must be valid once enabled.
mkdir "$tmp/secure" || exit 1
sed -e 's/^#\(LoadCredential=\)/\1/' -e 's/^#\(Environment="HTTPKV_\)/\1/' \
  "$tmp/httpkv.service" >"$tmp/secure/httpkv.service" || exit 1
if [ "$(grep -c -e '^LoadCredential=' -e '^Environment="HTTPKV_' "$tmp/secure/httpkv.service")" -ne 5 ]; then
  echo "FAIL: expected 3 commented LoadCredential= and 2 Environment=\"HTTPKV_ lines"
  exit 1
fi
verify "$tmp/secure/httpkv.service" "with the security options enabled"
echo "ok: systemd-analyze verify found nothing in httpkv.service (as shipped and secured)"
