#!/usr/bin/env bash
# Builds the real tools the engine suite runs from the Go modules under engine/go/, into a cache outside the work
# tree keyed by each module's sources. A module whose key is already built is reused (seconds). Logs go to stderr;
# stdout gets one line per binary, `name=absolute path`, for the suite to read.
#
#   bash engine/build.sh [core] [checkers]     (no argument: both)
#
#   core      what the suite runs: Pulumi CLI, Kubernetes provider, control plane and kubelet, etcd 3.6, the test
#             pod (about 23 minutes on a cold 2-core machine)
#   checkers  what only observabilityTools.test.ts runs: the log shipper (otelcol), promtool and amtool (about
#             9 minutes cold); `npm run test:engine` builds them in the background while the suite runs
#
#   ENGINE_CACHE   where builds are kept (default: ${XDG_CACHE_HOME:-$HOME/.cache}/coreos-platform/engine)
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coreos-platform/engine}
mkdir -p "$cache"
command -v go >/dev/null || { echo "engine/build.sh: needs Go 1.26 (https://go.dev/dl; Debian's is too old)" >&2; exit 1; }

# The versions each binary reports. They are the module versions pinned in engine/go/*/go.mod.
PULUMI_VERSION=v3.274.1
PROVIDER_VERSION=4.25.0
KUBERNETES_VERSION=v1.36.3

# One build at a time per cache (two test runs may start together).
exec 9>"$cache/.lock"
flock 9

# key <module> <build arguments...>: a hash of everything that decides the module's binaries: its files, the Go
# release and the build's flags and packages.
key() {
  local module=$1; shift
  (cd "$here/go/$module" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 | sort -z \
    | xargs -0 sha256sum; go env GOVERSION; echo "$*") | sha256sum | cut -c1-16
}

# build <module> <ldflags> <package...>: builds the packages into $cache/<module>-<key>/ unless already there.
build() {
  local module=$1 ldflags=$2; shift 2
  local out="$cache/$module-$(key "$module" "$ldflags" "$@")"
  if [ ! -e "$out/.complete" ]; then
    echo "engine: building $module into $out (from cold: minutes; Go's build cache makes a rebuild quicker)" >&2
    rm -rf "$out" "$out.tmp"
    mkdir -p "$out.tmp"
    local src="$here/go/$module"
    if [ "$module" = provider ]; then
      # The provider's main embeds files generated from the module's schema: build from a scratch copy.
      src="$out.tmp/src"
      cp -r "$here/go/provider" "$src"
      local upstream
      # `go list -m` names the module's directory only once it is in the module cache: download it first (a fresh
      # machine has an empty cache, and an empty directory here would send embedgen to /cmd/...).
      (cd "$src" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
      upstream=$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
      [ -n "$upstream" ] || { echo "engine/build.sh: the provider module's directory is unknown (go list -m)" >&2; exit 1; }
      (cd "$src" && go run ./embedgen "$upstream/cmd/pulumi-resource-kubernetes" "$PROVIDER_VERSION" .)
    fi
    local started=$SECONDS
    local timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "engine: $module: %e s, peak memory %M KB")
    (cd "$src" && CGO_ENABLED=0 "${timer[@]}" \
      go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp/" "$@")
    rm -rf "$out.tmp/src"
    mv "$out.tmp" "$out"
    touch "$out/.complete"
    echo "engine: $module built in $((SECONDS - started)) s" >&2
    # Older builds of this module are never used again.
    local old
    for old in "$cache/$module"-*; do
      [ "$old" = "$out" ] || rm -rf "$old"
    done
  fi
  local bin
  for bin in "$out"/*; do echo "$(basename "$bin")=$bin"; done
}

core() {
  local kver=k8s.io/component-base/version
  build cli "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  build provider "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PROVIDER_VERSION" \
    .
  build kubernetes "-X $kver.gitVersion=$KUBERNETES_VERSION -X $kver.gitMajor=1 -X $kver.gitMinor=36 \
    -X $kver.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl
  build etcd "" . go.etcd.io/etcd/etcdutl/v3 go.etcd.io/etcd/etcdctl/v3
  build testpod "" .
}

checkers() {
  build otelcol "" .
  build prometheus "" github.com/prometheus/prometheus/cmd/promtool github.com/prometheus/alertmanager/cmd/amtool
}

[ $# -gt 0 ] || set -- core checkers
for group in "$@"; do
  case $group in
    core) core ;;
    checkers) checkers ;;
    *) echo "engine/build.sh: unknown group '$group' (known: core, checkers)" >&2; exit 2 ;;
  esac
done
