//go:build tools

// Package tools pins Ory Kratos for the dev/test environment. It is never built: the tag
// keeps the import (of a main package) out of every build, while go mod tidy still records
// Kratos and its whole dependency graph in go.mod and go.sum. kratos.sh builds the binary
// with `go build github.com/ory/kratos` from this module.
package tools

import _ "github.com/ory/kratos"
