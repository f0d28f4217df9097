package harness

import (
	"testing"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/stretchr/testify/require"
)

// Every row is named with its verdict; rows failed and rows not measured
// both count as not passed, which is what makes `make bench` exit non-zero.
func TestSummaryCountsRowsNotPassed(t *testing.T) {
	t.Parallel()
	run := &report.Run{Targets: []report.Target{
		{What: "a", Ours: "p99 ≤ 1 ms", Measured: "p99 0.5 ms", Pass: true},
		{What: "b", Ours: "p99 ≤ 1 ms", Measured: "p99 3 ms"},
		{What: "c", NotMeasured: "the edge was not started"},
	}}
	lines, notPassed := Summary(run)
	require.Equal(t, 2, notPassed)
	require.Equal(t, []string{
		"PASS  a: p99 0.5 ms",
		"FAIL  b: p99 3 ms (target p99 ≤ 1 ms)",
		"NOT MEASURED  c: the edge was not started",
		"1 of 3 targets pass, 1 fail, 1 not measured",
	}, lines)

	_, notPassed = Summary(&report.Run{Targets: run.Targets[:1]})
	require.Zero(t, notPassed)
}
