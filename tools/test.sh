#!/usr/bin/env bash
# `npm test`: makes sure the outside tools the tests drive are installed (with apt-get when it can), then runs
# the type check, the Pulumi.yaml/README sync check, the lint gate (prettier and typescript-eslint on the whole
# tree) and every jest test. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ignition-validate >/dev/null || missing+=(ignition)
[ -x /usr/lib/dracut/modules.d/30ignition/ignition ] || missing+=(ignition)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || missing+=(prometheus-node-exporter)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing test tools: $packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "warning: missing test tools ($packages); the tests that need them will fail." >&2
    echo "         install them with: sudo apt-get install -y $packages" >&2
  fi
fi

npx tsc --noEmit -p tsconfig.json
npx ts-node --transpile-only tools/configSync.ts --check
npx prettier --check --log-level warn .
npx eslint --max-warnings 0 .
npx jest "$@"
