#!/usr/bin/env bash
# `npm run test:engine`: builds (or reuses) the real tools, installs what the machine must provide (with apt-get
# when root), then runs the engine suite (jest.engine.config.js). Extra arguments go to jest.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

source tools/packages.sh
ensure_packages "the engine suite" fail ip:iproute2 nsenter:util-linux containerd:containerd ctr:containerd runc:runc \
  curl:curl openssl:openssl pgrep:procps ignition-validate:ignition systemd-analyze:systemd \
  /usr/lib/dracut/modules.d/30ignition/ignition:ignition

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
