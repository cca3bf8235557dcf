//go:build tools

// Package tools names the main packages this module builds besides etcd itself, so that `go mod tidy` keeps their
// dependencies: etcdctl (snapshot save, member add/remove) and etcdutl (snapshot status and restore), the tools the
// program's backup and restore scripts run, at the release of the server.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
