package report

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSlowestTakesTheSlowestOnePercent gives 300 deliveries' tail (the
// slowest few, out of order) and checks that the breakdown keeps the
// slowest 3, and summarizes each stage over them: the median and max of
// the samples that have it timed, asides apart.
func TestSlowestTakesTheSlowestOnePercent(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tail := []Sample{
		{Total: 20, Stages: []float64{1, 15, 4, 20}},
		{Total: 50, Stages: []float64{2, 40, 8, 45}},
		{Total: 9, Stages: []float64{9, 0, 0, 9}}, // the 4th slowest: left out
		{Total: 30, Stages: []float64{3, nan, 27, 29}},
	}
	b := Slowest(300, tail, []string{"wait", "POST → commit", "commit → socket", "(POST round trip)"})
	require.Equal(t, 3, b.Samples)
	require.Equal(t, 300, b.Of)
	require.Equal(t, 20.0, b.From)
	require.Equal(t, []Stage{
		{Name: "wait", N: 3, Median: 2, Max: 3},
		{Name: "POST → commit", N: 2, Median: 27.5, Max: 40},
		{Name: "commit → socket", N: 3, Median: 8, Max: 27},
		{Name: "POST round trip", N: 3, Median: 29, Max: 45, Aside: true},
	}, b.Stages)

	line := b.Line()
	require.True(t, strings.HasPrefix(line, "slowest 1 % (3 of 300, from 20.0 ms)"), line)
	require.Contains(t, line, "wait 2.00 / 3.00 → POST → commit 27.5 / 40.0 (2 timed) → commit → socket 8.00 / 27.0")
	require.Contains(t, line, "beside it: POST round trip 29.0 / 45.0")
}

// TestSlowestOfFewKeepsOne: fewer than 100 samples still have a slowest
// one; nothing to summarize is no breakdown, and prints nothing.
func TestSlowestOfFewKeepsOne(t *testing.T) {
	t.Parallel()
	b := Slowest(3, []Sample{{Total: 1, Stages: []float64{1}}, {Total: 7, Stages: []float64{math.NaN()}}}, []string{"a"})
	require.Equal(t, 1, b.Samples)
	require.Equal(t, 7.0, b.From)
	require.Equal(t, 0, b.Stages[0].N)
	require.Contains(t, b.Line(), "a not timed")
	require.Nil(t, Slowest(0, nil, []string{"a"}))
	var none *Breakdown
	require.Empty(t, none.Line())
}

// TestWaitsLine prints every part of a phase's waits.
func TestWaitsLine(t *testing.T) {
	t.Parallel()
	w := &Waits{Seconds: 10, Procs: []ProcWaits{
		{Name: "api", CPUPct: 61, Go: &GoWaits{GCCycles: 14, GCPauseMs: 3.1, GCCPUPct: 4.2, AssistPct: 1.5, SchedMeanMs: 0.12, SchedP99Ms: 10.5, SchedLong: 40}},
		{Name: "edge0", CPUPct: 20, Go: &GoWaits{SchedP99Ms: 0.92}},
		{Name: "postgres", CPUPct: 45},
	},
		Postgres: &PGWaits{Commits: 10000, WALSyncs: 2000, WALSyncMs: 3000, WALWrites: 2100, WALWriteMs: 210},
		Redis:    &RedisWaits{Events: []RedisEvent{{Name: "aof-fsync-always", LatestMs: 2, MaxMs: 5}}, Slow: 2, SlowMaxMs: 1.5, SlowCommand: "EVALSHA abc"},
		Missing:  []string{"worker: connection refused"},
	}
	require.Equal(t, "waits over the phase (10.0 s): "+
		"api 61 % CPU, GC 14× paused 3.10 ms, 4.2 % CPU (assist 1.5 %), runnable waits mean 0.12 ms, p99 ≤ 10.5 ms, 40 ≥ 0.9 ms; "+
		"edge0 20 % CPU, no GC, runnable waits mean 0.00 ms, p99 ≤ 0.92 ms, 0 ≥ 0.9 ms; postgres 45 % CPU; "+
		"postgres 10000 commits, 2000 WAL fsyncs averaging 1.50 ms (3000 ms in all), 2100 WAL writes averaging 0.10 ms; "+
		"redis latency events aof-fsync-always max 5.00 ms; 2 commands ≥ 1 ms (slowest 1.50 ms: EVALSHA abc) "+
		"(not read: worker: connection refused)", w.Line())
}

// TestMarkdownPrintsTheBreakdownUnderAFailedRow: a FAIL row's slowest 1 %
// and waits are printed under it; a PASS row's are not.
func TestMarkdownPrintsTheBreakdownUnderAFailedRow(t *testing.T) {
	t.Parallel()
	r := &Run{ID: "x", Targets: []Target{
		{What: "slow row", Measured: "p99 50 ms", Slowest: "slowest 1 % (a)", Waits: "waits over the phase (b)"},
		{What: "fast row", Measured: "p99 1 ms", Pass: true, Slowest: "slowest 1 % (c)", Waits: "waits over the phase (d)"},
	}}
	md := string(Markdown(r))
	require.Contains(t, md, "- **slow row**: –\n  - slowest 1 % (a)\n  - waits over the phase (b)\n")
	require.NotContains(t, md, "slowest 1 % (c)")
}
