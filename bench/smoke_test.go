package bench

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/bench/harness"
	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/bench/scenario"
	"github.com/chatterly/chatterly/bench/stack"
	"github.com/stretchr/testify/require"
)

// TestBenchSmoke runs the whole harness (make bench-smoke) with tiny loads
// on a stack of its own: data under this checkout's STACK_DIR (exported by
// deploy/local/test.sh), on ports the kernel hands out, so it never meets
// the Postgres and Redis the other tests use. It checks that every
// scenario ran or says why it could not, that every target has a row and a
// verdict, that the report and its JSON were written to the scratch folder
// and not over the committed report, and that nothing is left running.
func TestBenchSmoke(t *testing.T) {
	checkout, err := stack.Checkout()
	require.NoError(t, err)
	// A safety net, not a figure: the harness builds the release binaries
	// first, which alone took 3 minutes on the shared 2-core machine under a
	// load average of 40; every wait after that is on a condition.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir, err := stack.DataDir(ctx, checkout, "bench-smoke")
	require.NoError(t, err)
	committed := filepath.Join(checkout, "bench", "REPORT.md")
	before := fileSum(t, committed)

	out := filepath.Join(dir, "out")
	run, files, err := harness.Run(ctx, harness.Options{Checkout: checkout, Size: scenario.Smoke,
		DataDir: dir, OutDir: out, Edges: 2, Logf: t.Logf})
	require.NoError(t, err)

	require.Equal(t, before, fileSum(t, committed), "the smoke run must not touch the committed report")
	require.Contains(t, files, filepath.Join(out, "REPORT.md"))
	b, err := os.ReadFile(filepath.Join(out, "results", run.ID+".json"))
	require.NoError(t, err)
	var back report.Run
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, "smoke", back.Mode)

	for _, s := range harness.Steps {
		var sc *report.Scenario
		for _, x := range run.Scenarios {
			if x.Name == s.Name {
				sc = x
			}
		}
		require.NotNil(t, sc, s.Name)
		require.Empty(t, sc.Error, "scenario %s", s.Name)
		if sc.NotMeasured == "" {
			require.NotEmpty(t, sc.Steps, "scenario %s ran but recorded nothing", s.Name)
		}
	}
	auth := run.Scenario("auth", "")
	require.Empty(t, auth.NotMeasured)
	require.Equal(t, auth.Steps[0].Due, auth.Steps[0].Done, "every auth check succeeded")
	require.Len(t, run.Targets, len(scenario.Targets(run)))
	for _, tg := range run.Targets {
		require.Contains(t, []string{"PASS", "FAIL"}, tg.Verdict(), tg.What)
		if tg.Measured == "" {
			require.NotEmpty(t, tg.NotMeasured, "a row with no figure says why: %s", tg.What)
		}
		if tg.Verdict() == "FAIL" && tg.NotMeasured == "" {
			require.NotEmpty(t, tg.Next, "a measured FAIL row has its next step: %s", tg.What)
		}
	}
	checkBreakdown(t, run)
	// The harness stopped its stacks (the fleet scenario's too): Postgres,
	// and the fleet's replica, removed their pid files.
	for _, pg := range []string{"pg", "fleet/pg", "fleet/pg-replica"} {
		_, err = os.Stat(filepath.Join(dir, pg, "postmaster.pid"))
		require.True(t, os.IsNotExist(err), "%s: postgres still has a pid file", pg)
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return [32]byte{}
	}
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// checkBreakdown: each judged delivery row carries the breakdown of its
// slowest 1 %, every stage timed (the commit, the stream entry and the
// bench's send and receive), and the waits of its phase; so do the REST
// steps at their fixed rate.
func checkBreakdown(t *testing.T, run *report.Run) {
	t.Helper()
	for _, label := range []string{scenario.StepG19API, scenario.StepG19Stream, scenario.StepAllStream} {
		st := run.Scenario("delivery", "").Step(label)
		require.NotNil(t, st, label)
		require.NotNil(t, st.Slowest, "%s: slowest 1 %%", label)
		require.Positive(t, st.Slowest.Samples, label)
		for _, sg := range st.Slowest.Stages {
			require.Positive(t, sg.N, "%s: stage %s timed", label, sg.Name)
		}
		require.NotNil(t, st.Waits, label)
		require.Empty(t, st.Waits.Missing, label)
		require.NotNil(t, st.Waits.Postgres, label)
		require.NotNil(t, st.Waits.Redis, label)
		names := map[string]bool{}
		for _, p := range st.Waits.Procs {
			names[p.Name] = p.Go != nil
		}
		require.True(t, names["api"] && names["edge0"] && names["worker"], "%s: Go processes' waits: %v", label, names)
	}
	for _, name := range []string{"rest_write", "rest_read"} {
		st := run.Scenario(name, "").Step("fixed rate")
		require.NotNil(t, st, name)
		require.NotNil(t, st.Slowest, "%s: slowest 1 %%", name)
		require.NotNil(t, st.Waits, name)
		require.Contains(t, st.Slowest.Line(), "CPU per request: server", name)
	}
	var rows int
	for _, tg := range run.Targets {
		if tg.Scenario == "delivery" && strings.Contains(tg.Ours, "p99") {
			require.Contains(t, tg.Slowest, "slowest 1 %", tg.What)
			require.Contains(t, tg.Waits, "waits over the phase", tg.What)
			rows++
		}
	}
	require.Equal(t, 3, rows, "the delivery latency rows")
}
