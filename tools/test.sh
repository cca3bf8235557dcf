#!/usr/bin/env bash
# `npm test`: makes sure the outside tools the tests drive are installed (with apt-get when it can), then runs
# the type check, the Pulumi.yaml/README sync check, the lint gate (prettier and typescript-eslint on the whole
# tree) and every jest test. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

source tools/packages.sh
ensure_packages "npm test" warn ignition-validate:ignition /usr/lib/dracut/modules.d/30ignition/ignition:ignition \
  systemd-analyze:systemd etcd:etcd-server etcdctl:etcd-client openssl:openssl /usr/sbin/nginx:nginx-light \
  skopeo:skopeo docker-registry:docker-registry podman:podman containerd:containerd ctr:containerd curl:curl unshare:util-linux \
  promtool:prometheus prometheus:prometheus amtool:prometheus-alertmanager \
  prometheus-node-exporter:prometheus-node-exporter

npx tsc --noEmit -p tsconfig.json
npx ts-node --transpile-only tools/configSync.ts --check
npx prettier --check --log-level warn .
npx eslint --max-warnings 0 .
npx jest "$@"
