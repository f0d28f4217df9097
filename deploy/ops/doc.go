// Package ops holds the tests of what an operator sees of this checkout's
// binaries, built as `go build` builds them: --help, --version and
// print-config (binaries_test.go), and the /metrics of a running api, edge
// and worker, linted with promlint and held to every metric that
// deploy/observability's alerting rules and dashboard name
// (metrics_test.go).
package ops
