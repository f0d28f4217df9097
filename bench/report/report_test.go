package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/load"
	"github.com/stretchr/testify/require"
)

func sampleRun(t *testing.T) *Run {
	t.Helper()
	r := NewRun("smoke")
	r.Machine = Describe(".")
	r.Notes = []string{"seeded directly"}
	lr := load.Run(context.Background(), load.Plan{Rate: 2000, Duration: 50 * time.Millisecond, Workers: 4},
		func(context.Context, load.Call) error { return nil })
	sc := r.Scenario("rest_read", "REST cached read")
	sc.Add(FromLoad("5000/s", lr)).Set("lost", 0)
	h := hist.New()
	h.Record(3 * time.Millisecond)
	sc.Add(FromHist("deliveries", h))
	r.Scenario("density", "Density").NotMeasured = "the edge has not landed"
	r.Targets = []Target{
		{What: "REST read p99", Original: "< 50 ms", Ours: "p99 ≤ 2 ms", Measured: "p99 0.9 ms", Pass: true, Next: "not for a PASS row"},
		{What: "write | p99", Original: "< 100 ms", Ours: "p99 ≤ 5 ms", Measured: "p99 9 ms", Pass: false,
			Where: "fsync on commit.", Profile: "results/x.pprof", Slowest: "slowest 1 % (1 of 100)", Waits: "waits over the phase (1.0 s)",
			Next: "group the commits"},
		{What: "sockets", Original: "1,000,000", Ours: "≥ 19,000", NotMeasured: "the edge has not landed", Pass: true},
		{What: "frames/s", Original: "—", Ours: "≥ 100,000 frames/s", Measured: "90000 frames/s", Next: "cut the edge's CPU per frame"},
	}
	r.Figures = []Figure{{What: "auth, new token", Value: "p99 0.09 ms"}}
	r.Estimate = []string{"1,000,000 / 19,000 = 53 nodes"}
	r.Finished = time.Now()
	return r
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	r := sampleRun(t)
	require.Equal(t, "PASS", r.Targets[0].Verdict())
	require.Equal(t, "FAIL", r.Targets[1].Verdict())
	// A row without a figure fails, whatever Pass says.
	require.Equal(t, "FAIL", r.Targets[2].Verdict())
}

func TestWriteProducesReportJSONAndPlots(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := sampleRun(t)
	paths, err := Write(dir, r)
	require.NoError(t, err)
	require.Len(t, paths, 3) // one plot (the density scenario has none), JSON, REPORT.md

	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	require.NoError(t, err)
	s := string(md)
	require.Contains(t, s, "| REST read p99 | < 50 ms | p99 ≤ 2 ms | p99 0.9 ms | PASS |")
	require.Contains(t, s, "| write \\| p99 |", "pipes inside cells are escaped")
	require.Contains(t, s, "| sockets | 1,000,000 | ≥ 19,000 | not measured: the edge has not landed | FAIL |")
	require.Contains(t, s, "fsync on commit.; profile: [`results/x.pprof`](results/x.pprof)\n  - slowest 1 % (1 of 100)\n  - waits over the phase (1.0 s)\n  - next step: group the commits\n")
	require.Contains(t, s, "- **frames/s**: –\n  - next step: cut the edge's CPU per frame\n", "a FAIL row without a breakdown has its next step too")
	require.NotContains(t, s, "not for a PASS row")
	require.Contains(t, s, "Not measured: the edge has not landed")
	require.Contains(t, s, "(results/"+r.ID+"-rest_read.svg)")
	require.Contains(t, s, "1,000,000 / 19,000 = 53 nodes")

	b, err := os.ReadFile(filepath.Join(dir, "results", r.ID+".json"))
	require.NoError(t, err)
	var back Run
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, r.ID, back.ID)
	require.Equal(t, int64(100), back.Scenarios[0].Steps[0].Due)
	require.Equal(t, runtimeCores(), back.Machine.Cores)

	svg, err := os.ReadFile(filepath.Join(dir, "results", r.ID+"-rest_read.svg"))
	require.NoError(t, err)
	requireWellFormedXML(t, svg)
	require.Equal(t, 2, strings.Count(string(svg), "<polyline"))
}

func TestPlotSkipsScenarioWithoutLatency(t *testing.T) {
	t.Parallel()
	require.Nil(t, PlotSVG(&Scenario{Name: "x", Steps: []*Step{{Label: "no latency"}}}))
}

func requireWellFormedXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
	}
}

func TestThinKeepsShapeAndEnds(t *testing.T) {
	t.Parallel()
	h := hist.New()
	for i := 1; i <= 200_000; i++ {
		h.Record(time.Duration(i%5000) * time.Microsecond)
	}
	all := h.Distribution()
	thin := Thin(all)
	require.Less(t, len(thin), len(all)/2)
	require.Equal(t, all[0], thin[0])
	require.Equal(t, all[len(all)-1], thin[len(thin)-1])
	for i := 1; i < len(thin); i++ {
		require.Greater(t, thin[i].Percentile, thin[i-1].Percentile)
	}
}
