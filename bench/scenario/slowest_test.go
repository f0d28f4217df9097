package scenario

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/load"
	"github.com/stretchr/testify/require"
)

// TestEntryAtNarrowsTheMillisecond: an entry id's millisecond, narrowed
// by what brackets the append; a bracket outside it (clocks apart) leaves
// the millisecond's middle.
func TestEntryAtNarrowsTheMillisecond(t *testing.T) {
	t.Parallel()
	const ms = 1_700_000_000_123
	base := int64(ms) * 1e6
	require.Equal(t, base+500_000, entryAt(ms, 0, 0))
	require.Equal(t, base+600_000, entryAt(ms, base+200_000, 0))
	require.Equal(t, base+300_000, entryAt(ms, base+200_000, base+400_000))
	require.Equal(t, base+100_000, entryAt(ms, base-5_000_000, base+200_000))
	require.Equal(t, base+500_000, entryAt(ms, base+2_000_000, base+3_000_000))
	require.Equal(t, int64(ms), entryMs("1700000000123-7"))
	require.Equal(t, int64(-1), entryMs("nonsense"))
}

// TestStagesAddUpToTheLatency: a delivery from api acceptance splits into
// generator wait, POST → commit, commit → XADD and XADD → socket, which
// add up to its latency from the due time; the POST's round trip is
// beside them; a stage with an unknown end is NaN.
func TestStagesAddUpToTheLatency(t *testing.T) {
	t.Parallel()
	const ms = int64(1_700_000_000_000)
	due := ms*1e6 - 3_000_000
	tm := eventTimes{due: due, start: due + 1_000_000, end: ms*1e6 + 4_000_000, commit: ms*1e6 - 500_000, entryMs: ms}
	recv := ms*1e6 + 9_000_000
	got := stages(true, tm, recv)
	require.Len(t, got, len(apiStages))
	require.InDelta(t, 1.0, got[0], 1e-9) // generator wait
	require.InDelta(t, 1.5, got[1], 1e-9) // POST → commit
	require.InDelta(t, 1.0, got[2], 1e-9) // commit → XADD (the entry's millisecond's middle)
	require.InDelta(t, 8.5, got[3], 1e-9) // XADD → socket
	require.InDelta(t, 6.0, got[4], 1e-9) // POST round trip
	require.InDelta(t, float64(recv-due)/1e6, got[0]+got[1]+got[2]+got[3], 1e-9)

	tm.commit = 0
	got = stages(true, tm, recv)
	require.True(t, math.IsNaN(got[1]) && math.IsNaN(got[2]))
	require.False(t, math.IsNaN(got[3]))

	// From stream entry: the bench's own XADD, sent at the due time.
	st := eventTimes{due: due, start: due, end: due + 800_000, entryMs: due / 1e6}
	got = stages(false, st, due+5_000_000)
	require.Len(t, got, len(streamStages))
	require.InDelta(t, float64(5_000_000)/1e6, got[0]+got[1], 1e-9)
	require.InDelta(t, 0.8, got[2], 1e-9)
}

// TestExplainCopiesLinesOntoLatencyRows: a latency row gets its step's
// slowest 1 % and waits; a throughput row only the waits.
func TestExplainCopiesLinesOntoLatencyRows(t *testing.T) {
	t.Parallel()
	st := &report.Step{Label: StepFanout,
		Slowest: report.Slowest(100, []report.Sample{{Total: 5, Stages: []float64{5}}}, []string{"a"}),
		Waits:   &report.Waits{Seconds: 1}}
	r := &report.Run{Scenarios: []*report.Scenario{{Name: "fanout", Steps: []*report.Step{st}}}}
	r.Targets = []report.Target{
		{Scenario: "fanout", Step: StepFanout, Ours: "p99 ≤ 3 ms"},
		{Scenario: "fanout", Step: StepFanout, Ours: "≥ 100,000 frames/s"},
		{Scenario: "fanout", Ours: "p99 ≤ 3 ms"},
	}
	Explain(r)
	require.Contains(t, r.Targets[0].Slowest, "slowest 1 % (1 of 100")
	require.Contains(t, r.Targets[0].Waits, "waits over the phase (1.0 s)")
	require.Empty(t, r.Targets[1].Slowest)
	require.NotEmpty(t, r.Targets[1].Waits)
	require.Empty(t, r.Targets[2].Slowest+r.Targets[2].Waits)
}

// TestRESTCallsSplitAtTheGenerator: timed calls split into the wait for
// a worker and the request, and the slowest 1 % is the slowest call; a
// call not made is left out. CPU per request is the process's CPU over
// the phase divided by the requests done.
func TestRESTCallsSplitAtTheGenerator(t *testing.T) {
	t.Parallel()
	var seen []int64
	op, times := timeCalls(func(_ context.Context, c load.Call) error {
		seen = append(seen, c.I)
		return nil
	}, 3)
	due := time.Now()
	for i := range int64(2) {
		require.NoError(t, op(context.Background(), load.Call{I: i, Due: due}))
	}
	require.Equal(t, []int64{0, 1}, seen)
	// Call 1 waited 4 ms for a worker and took 6 ms; call 0 took 1 ms.
	base := due.UnixNano()
	times.start[0], times.end[0] = base, base+1e6
	times.start[1], times.end[1] = base+4e6, base+10e6
	b := times.slowest()
	require.Equal(t, 2, b.Of)
	require.Equal(t, 1, b.Samples)
	require.Equal(t, 10.0, b.From)
	require.Equal(t, []report.Stage{{Name: "generator wait", N: 1, Median: 4, Max: 4}, {Name: "request", N: 1, Median: 6, Max: 6}}, b.Stages)

}
