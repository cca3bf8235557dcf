//go:build tools

// promtool and amtool at the releases versions.ts runs (Prometheus v3.16.0 = module v0.316.0, Alertmanager
// v0.35.0): Debian's promtool 2.42 is built without Kubernetes service discovery, so it cannot check the
// rendered configuration. The engine suite checks with these.
package tools

import (
	_ "github.com/prometheus/alertmanager/cmd/amtool"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
