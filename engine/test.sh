#!/usr/bin/env bash
# `npm run test:engine`: builds (or reuses) the real tools, installs what the machine must provide (with apt-get
# when root), then runs the engine suite (jest.engine.config.js). Extra arguments go to jest.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in ip:iproute2 containerd:containerd ctr:containerd runc:runc curl:curl openssl:openssl ignition-validate:ignition \
  systemd-analyze:systemd pgrep:procps jq:jq; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
[ -x /usr/lib/dracut/modules.d/30ignition/ignition ] || missing+=(ignition)
if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing engine suite tools: $packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "error: the engine suite needs root and: $packages (apt-get install -y $packages)" >&2
    exit 1
  fi
fi

tools_file=$(mktemp)
trap 'rm -f "$tools_file"' EXIT
started=$SECONDS
bash engine/build.sh > "$tools_file"
echo "engine: tools ready in $((SECONDS - started)) s"
# One engine run at a time on a machine: runs share the runner's routes to the stages' fixed addresses.
exec 9>/tmp/coreos-platform-engine.lock
if ! flock -n 9; then
  echo "engine: another engine run holds /tmp/coreos-platform-engine.lock; waiting for it" >&2
  flock 9
fi
ENGINE_TOOLS_FILE=$tools_file npx jest -c jest.engine.config.js --runInBand "$@"
