package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/bench/stack"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/stretchr/testify/require"
)

// TestRenderJudgesTheRecordedFigures writes a run, renders it again from
// its JSON, and expects the same rows and a note that it was re-rendered.
func TestRenderJudgesTheRecordedFigures(t *testing.T) {
	t.Parallel()
	checkout, err := stack.Checkout()
	require.NoError(t, err)
	r := report.NewRun("test")
	r.Machine.Commit = "0000000000000000000000000000000000000000"
	h := hist.New()
	h.RecordValue(50_000)
	r.Scenario("auth", "Auth").Add(report.FromHist("seen before", h))
	dir := t.TempDir()
	_, err = report.Write(dir, r)
	require.NoError(t, err)

	out := filepath.Join(dir, "again")
	files, err := Render(checkout, filepath.Join(dir, "results", r.ID+".json"), out)
	require.NoError(t, err)
	require.Contains(t, files, filepath.Join(out, "REPORT.md"))
	md, err := os.ReadFile(filepath.Join(out, "REPORT.md"))
	require.NoError(t, err)
	s := string(md)
	require.Contains(t, s, "| auth check (JWT + denylist), token seen before | < 5 ms | p99 ≤ 0.1 ms | p50 0.050")
	require.True(t, strings.Contains(s, "rendered again from the run's JSON"))
}
