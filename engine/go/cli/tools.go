//go:build tools

// Package tools names the main packages this module builds, so that `go mod tidy` keeps their dependencies.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
