#!/usr/bin/env bash
# `npm run test:engine`: builds (or reuses) the real tools, installs what the machine must provide (with apt-get
# when root), then runs the engine suite (jest.engine.config.js). Extra arguments go to jest.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

source tools/packages.sh
ensure_packages "the engine suite" fail ip:iproute2 nsenter:util-linux containerd:containerd ctr:containerd runc:runc \
  curl:curl openssl:openssl pgrep:procps jq:jq etcdctl:etcd-client ignition-validate:ignition systemd-analyze:systemd \
  /usr/lib/dracut/modules.d/30ignition/ignition:ignition

tools_file=$(mktemp)
checkers_file=$(mktemp)
checkers_pid=
cleanup() {
  # A run of a few files ends before the checkers' build: stop it (Go's build cache keeps what it compiled).
  [ -z "$checkers_pid" ] || kill -- "-$checkers_pid" 2>/dev/null || true
  rm -f "$tools_file" "$checkers_file" "$checkers_file".*
}
trap cleanup EXIT
started=$SECONDS
bash engine/build.sh core > "$tools_file"
echo "engine: tools ready in $((SECONDS - started)) s"
# The checkers (otelcol, promtool, amtool) only observabilityTools.test.ts runs, and the suite's sequencer runs it
# last: they build in the background at the lowest priority while the rest of the suite runs, and that test waits
# for ENGINE_CHECKERS_FILE.status (the build's exit code; its log is ENGINE_CHECKERS_FILE.log). The build gets a
# session of its own (to be stopped as a group), and with it, where the kernel groups CPU time by session
# (sched_autogroup), a group of its own: `nice` alone ranks processes only within their group, so the group itself
# is set to the lowest priority too (a cold run measured the build taking a third of the CPU from the suite).
setsid bash -c 'echo 19 > /proc/self/autogroup 2>/dev/null || true
  nice -n 19 bash engine/build.sh checkers > "$1" 2> "$1.log"; echo $? > "$1.status"' checkers "$checkers_file" &
checkers_pid=$!
# One engine run at a time on a machine: runs share the runner's routes to the stages' fixed addresses.
exec 9>/tmp/coreos-platform-engine.lock
if ! flock -n 9; then
  echo "engine: another engine run holds /tmp/coreos-platform-engine.lock; waiting for it" >&2
  flock 9
fi
ENGINE_TOOLS_FILE=$tools_file ENGINE_CHECKERS_FILE=$checkers_file npx jest -c jest.engine.config.js --runInBand "$@"
