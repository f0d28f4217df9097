package stats

import (
	"encoding/json"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"
)

// TestHistQuantilesAndDifference reads a hand-made histogram.
func TestHistQuantilesAndDifference(t *testing.T) {
	t.Parallel()
	h := Hist{Upper: []float64{0.001, 0.01, 0.1, math.Inf(1)}, Counts: []float64{90, 8, 1, 1}}
	require.Equal(t, 100.0, h.Count())
	require.Equal(t, 0.001, h.Quantile(0.5))
	require.Equal(t, 0.01, h.Quantile(0.98))
	require.Equal(t, 0.1, h.Quantile(0.99))
	require.Equal(t, 0.1, h.Max(), "the +Inf bucket is reported by its lower bound")
	require.Equal(t, 10.0, h.CountFrom(0.001))
	before := Hist{Upper: h.Upper, Counts: []float64{40, 8, 0, 1}}
	d := h.Sub(before)
	require.Equal(t, []float64{50, 0, 1, 0}, d.Counts)
	require.Equal(t, 0.1, d.Max())
	require.Equal(t, h, h.Sub(Hist{Upper: []float64{1}, Counts: []float64{1}}), "another process's buckets are not subtracted")
	require.Zero(t, Hist{}.Quantile(0.99))
}

// TestParseRuntimeReadsWhatProcessesExport serves shared/metrics'
// registry, as the api, edge and worker do, and reads it back: the
// scheduler latencies, GC cycles, pauses and CPU are there, and agree with
// the process's own runtime.
func TestParseRuntimeReadsWhatProcessesExport(t *testing.T) {
	t.Parallel()
	runtime.GC()
	srv := httptest.NewServer(promhttp.HandlerFor(metrics.NewRegistry(), promhttp.HandlerOpts{}))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r, ok := ParseRuntime(text)
	require.True(t, ok, "go_sched_latencies_seconds exported")
	require.GreaterOrEqual(t, r.GCCycles, 1.0)
	require.Positive(t, r.GCPauseSeconds)
	require.Positive(t, r.GCCPUSeconds)
	require.Positive(t, r.Sched.Count())
	require.Positive(t, r.SchedSum)
	require.True(t, math.IsInf(r.Sched.Upper[len(r.Sched.Upper)-1], 1))

	own := ReadRuntime()
	require.GreaterOrEqual(t, own.GCCycles, r.GCCycles)
	require.GreaterOrEqual(t, own.Sched.Count(), r.Sched.Count())
	// A child reports its runtime as JSON: every bound is finite.
	_, err = json.Marshal(own)
	require.NoError(t, err)
	d := own.Sub(own)
	require.Zero(t, d.Sched.Count())
	require.Zero(t, d.GCCycles)

	_, ok = ParseRuntime([]byte("# nothing\nother_metric 1\n"))
	require.False(t, ok)
}

// TestTreeCPUCountsChildren: a child that burned CPU and exited is in its
// parent's tree CPU.
func TestTreeCPUCountsChildren(t *testing.T) {
	t.Parallel()
	self := os.Getpid()
	own, err := CPU(self)
	require.NoError(t, err)
	before, err := TreeCPU(self)
	require.NoError(t, err)
	require.GreaterOrEqual(t, before, own)
	// The child burns a few tenths of a second of CPU in awk.
	cmd := exec.Command("awk", "BEGIN{for(i=0;i<3000000;i++)x+=i}")
	require.NoError(t, cmd.Run())
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	after, err := TreeCPU(self)
	require.NoError(t, err)
	// The kernel counts in 10 ms ticks; the child's own figure is finer.
	require.GreaterOrEqual(t, after-before+2*clockTick, child, "the exited child's CPU is counted")
	_, err = TreeCPU(0x7ffffff0)
	require.Error(t, err)
}
