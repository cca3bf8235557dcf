// promtool and amtool at the pinned releases (see tools.go).
module coreos-platform/engine/prometheus

go 1.26.7

require (
	github.com/prometheus/alertmanager v0.35.0 // indirect
	github.com/prometheus/prometheus v0.316.0 // indirect
)
