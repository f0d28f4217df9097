// Package bench is the root of Chatterly's bench harness, which proves
// DESIGN.md's targets on a running stack and writes bench/REPORT.md.
//
// Layout: report (JSON, Markdown and SVG writers), stack (builds and runs
// the whole stack), seed (users, tokens and conversations written
// directly), scenario (one function per scenario, and the targets table),
// harness (the run order), profiled (the api under a CPU profile),
// cmd/chatterly-bench (`make bench`, `make bench-smoke`). The load itself
// comes from the library in loadtest/: the histogram (hist), the
// open-model driver (load), the wire client (cable), the many-socket client
// and its child processes (sockets) and the /proc reader (stats).
//
// This package holds only tests: TestBenchSmoke runs the whole harness with
// tiny loads on its own stack so it cannot rot, and TestK6Scripts type-checks
// the k6 scripts in loadtest/k6 against k6's typings.
package bench
