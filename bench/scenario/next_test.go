package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/stretchr/testify/require"
)

// chain is a breakdown of one slow sample whose stages took medians ms.
func chain(names []string, medians ...float64) *report.Breakdown {
	b := &report.Breakdown{Samples: 1, Of: 100}
	for i, n := range names {
		b.Stages = append(b.Stages, report.Stage{Name: strings.Trim(n, "()"), N: 1, Median: medians[i], Max: medians[i], Aside: strings.HasPrefix(n, "(")})
		if !strings.HasPrefix(n, "(") {
			b.From += medians[i]
		}
	}
	return b
}

// goProc is a Go process's waits: CPU %, GC CPU % and runnable waits p99.
func goProc(name string, cpu, gc, schedP99 float64) report.ProcWaits {
	return report.ProcWaits{Name: name, CPUPct: cpu, Go: &report.GoWaits{GCCycles: 3, GCCPUPct: gc, SchedP99Ms: schedP99}}
}

// latencyStep is a step whose latency p99 and service p99 are as given.
func latencyStep(label string, p99, serviceP99 time.Duration) *report.Step {
	st := stepWith(label, p99)
	svc := hist.Summary{Count: 1000, P99: int64(serviceP99)}
	st.Service = &svc
	return st
}

const (
	deliveryRow = "p99 ≤ 10 ms"
	heldRow     = "≥ 20,000 req/s held at p99 ≤ 5 ms"
)

// TestNextStepRules gives each rule a row it must speak for, and checks
// the rule that chose and the measured figures its sentence quotes;
// every rule of the table has a case.
func TestNextStepRules(t *testing.T) {
	t.Parallel()
	calm := []report.ProcWaits{goProc("api", 40, 1, 0.9), goProc("edge0", 30, 1, 0.9), {Name: "postgres", CPUPct: 20}, goProc(benchProc, 10, 0.5, 0.06)}
	pg := &report.PGWaits{Commits: 1000, WALSyncs: 900, WALSyncMs: 1800}
	cases := []struct {
		name, rule string
		row        report.Target
		steps      []*report.Step
		want       []string
	}{
		{name: "deliveries lost", rule: "loss",
			row: report.Target{What: "message loss, delivery scenarios", Scenario: "delivery", Step: "connect and subscribe"},
			steps: []*report.Step{{Label: "connect and subscribe"},
				(&report.Step{Label: StepG19API}).Set(lossExtra, 3).Set("deliveries_expected", 1000)},
			want: []string{"3 of 1000 deliveries lost", "XRANGE"}},
		{name: "nothing expected", rule: "loss",
			row:   report.Target{What: "message loss during edge restart", Scenario: "faults", Step: FaultSteps[0]},
			steps: []*report.Step{(&report.Step{Label: FaultSteps[0]}).Set(lossExtra, 0).Set("deliveries_expected", 0)},
			want:  []string{"no delivery was expected"}},
		{name: "sockets refused", rule: "sockets held",
			row:   report.Target{What: "concurrent WebSockets held by one edge process", Scenario: "density", Step: StepDensity},
			steps: []*report.Step{(&report.Step{Label: StepDensity}).Set(socketsExtra, 15_000).Set("sockets_wanted", 19_900)},
			want:  []string{"15000 of 19900 sockets held", "open-files limit is 20000"}},
		{name: "memory per socket", rule: "memory per socket",
			row:   report.Target{What: "user-space memory per idle socket", Ours: "≤ 1 KB", Scenario: "density", Step: StepDensity, Profile: "results/heap.pprof"},
			steps: []*report.Step{(&report.Step{Label: StepDensity}).Set(bytesPerSockExtra, 1100)},
			want:  []string{"1100 bytes of resident memory per idle socket against 1024", "heap profile (above)"}},
		{name: "failed requests", rule: "failed operations",
			row:   report.Target{Ours: "p99 ≤ 5 ms at 1,000 writes/s", Scenario: "rest_write", Step: stepFixed},
			steps: []*report.Step{{Label: stepFixed, Due: 1000, Failed: 5, FirstError: "503"}},
			want:  []string{"5 of 1000 operations failed"}},
		{name: "api collecting garbage", rule: "gc",
			row: report.Target{Ours: deliveryRow, Scenario: "delivery", Step: StepG19API},
			steps: []*report.Step{{Label: StepG19API, Slowest: chain(apiStages, 1, 30, 1, 2, 31),
				Waits: &report.Waits{Procs: []report.ProcWaits{goProc("api", 80, 30, 0.9)}, Postgres: pg}}},
			want: []string{"api spent 30 % of a core on GC", "38 % of its 80 % CPU", "cut its allocations"}},
		{name: "handshakes offered below target", rule: "offered below target",
			row:   report.Target{Ours: "≥ 5,000 authenticated handshakes/s per edge process", Scenario: "density", Step: StepDensity},
			steps: []*report.Step{(&report.Step{Label: StepDensity, Rate: 2000}).Set(handshakesExtra, 1900).Set(edgeCPUPerHandshakeExtra, 150)},
			want:  []string{"offered at most 2000 handshakes/s, below the 5000/s target"}},
		{name: "ramp stopped below the held target", rule: "offered below target",
			row: report.Target{Ours: heldRow, Scenario: "rest_read", Step: StepFloor},
			steps: []*report.Step{(&report.Step{Label: StepFloor, Rate: 20_000}).Set(serverCPUExtra, 20),
				(&report.Step{Label: stepFixed, Rate: 5000}).Set("held", 1), (&report.Step{Label: "ramp 10000/s", Rate: 10_000}).Set("held", 1)},
			want: []string{"offered at most 10000 requests/s, below the 20000/s target"}},
		{name: "api over the held rate's budget", rule: "cpu over budget",
			row: report.Target{Ours: heldRow, Scenario: "rest_read", Step: "ramp 10000/s"},
			steps: []*report.Step{(&report.Step{Label: "ramp 10000/s", Rate: 10_000, Slowest: chain(restStages, 3, 4)}).
				Set(serverCPUExtra, 70).Set(loadCPUExtra, 45).Set("held", 0)},
			want: []string{"api 70 µs + load generator 45 µs = 115 µs, above the 100 µs that 20000/s leaves on 2 cores", "the api takes the largest share: cut the api's CPU per request"}},
		{name: "generator over the budget", rule: "cpu over budget",
			row: report.Target{Ours: heldRow, Scenario: "rest_read", Step: "ramp 10000/s"},
			steps: []*report.Step{(&report.Step{Label: "ramp 10000/s", Rate: 10_000}).
				Set(serverCPUExtra, 40).Set(loadCPUExtra, 65).Set("held", 0)},
			want: []string{"= 105 µs, above the 100 µs", "the load generator takes the largest share", "harness placement, not the product"}},
		{name: "edge CPU per frame", rule: "cpu over budget",
			row:   report.Target{Ours: "≤ 11 µs", Scenario: "fanout", Step: StepFanout},
			steps: []*report.Step{(&report.Step{Label: StepFanout}).Set(cpuPerFrameExtra, 12)},
			want:  []string{"the edge used 12 µs of CPU per frame, above the 11 µs the target allows; cut the edge's CPU per frame"}},
		{name: "api waiting for a thread", rule: "scheduler",
			row: report.Target{Ours: "p99 ≤ 2 ms at 5,000 req/s", Scenario: "rest_read", Step: stepFixed},
			steps: []*report.Step{(&report.Step{Label: stepFixed, Rate: 5000, Slowest: chain(restStages, 1, 11),
				Waits: &report.Waits{Procs: []report.ProcWaits{goProc("api", 90, 2, 11), {Name: "postgres", CPUPct: 70}}}}).
				Set(serverCPUExtra, 60).Set(loadCPUExtra, 30)},
			want: []string{"api's runnable goroutines waited up to 11.0 ms at p99", "the slowest 1 % start at 12.0 ms", "160 % of 2 cores", "busiest other process is postgres (70 % CPU)"}},
		{name: "late starts at the generator", rule: "generator wait",
			row: report.Target{Ours: "p99 ≤ 2 ms at 5,000 req/s", Scenario: "rest_read", Step: stepFixed},
			steps: []*report.Step{(&report.Step{Label: stepFixed, Rate: 5000, Slowest: chain(restStages, 8, 2),
				Waits: &report.Waits{Procs: calm}}).Set(serverCPUExtra, 60).Set(loadCPUExtra, 30)},
			want: []string{"generator wait is the largest stage of the slowest 1 % (median 8.00 ms, 80 %", "its CPU per request 30 µs", "bench (generator) at 10 % CPU", "harness placement"}},
		{name: "generator workers taken by slow requests", rule: "generator workers taken",
			row: report.Target{Ours: "p99 ≤ 5 ms at 1,000 writes/s", Scenario: "rest_write", Step: stepFixed},
			steps: []*report.Step{(&report.Step{Label: stepFixed, Rate: 1000, Slowest: chain(restStages, 400, 250),
				Waits: &report.Waits{Seconds: 10, Procs: []report.ProcWaits{goProc("api", 45, 2, 100), {Name: "postgres", CPUPct: 78},
					goProc(benchProc, 14, 0.1, 5)}, Postgres: &report.PGWaits{Commits: 13000}}}).
				Set(workersExtra, 200).Set(loadCPUExtra, 140)},
			want: []string{"the server, not the generator", "median 250 ms", "1000/s kept about 250 in flight and all 200 of the generator's workers were taken",
				"postgres at 78 % CPU (600 µs of its CPU per commit over 13000 commits)", "cut Postgres's work per send"}},
		{name: "commit wait on delivery", rule: "commit wait",
			row: report.Target{Ours: deliveryRow, Scenario: "delivery", Step: StepG19API},
			steps: []*report.Step{{Label: StepG19API, Slowest: chain(apiStages, 1, 30, 1, 2, 31),
				Waits: &report.Waits{Procs: calm, Postgres: pg}}},
			want: []string{"POST → commit is the largest stage", "median 30.0 ms", "900 WAL fsyncs averaging 2.00 ms for 1000 commits", "commit_delay"}},
		{name: "commit wait inside a REST write", rule: "commit wait",
			row: report.Target{Ours: "p99 ≤ 5 ms at 1,000 writes/s", Scenario: "rest_write", Step: stepFixed},
			steps: []*report.Step{(&report.Step{Label: stepFixed, Rate: 1000, Slowest: chain(restStages, 0.5, 20),
				Waits: &report.Waits{Procs: calm, Postgres: pg}}).Set(serverCPUExtra, 200).Set(loadCPUExtra, 40)},
			want: []string{"request is the largest stage", "averaging 2.00 ms"}},
		{name: "publish after commit", rule: "publish after commit",
			row: report.Target{Ours: deliveryRow, Scenario: "delivery", Step: StepG19API},
			steps: []*report.Step{{Label: StepG19API, Slowest: chain(apiStages, 1, 2, 9, 2, 12),
				Waits: &report.Waits{Procs: calm, Redis: &report.RedisWaits{}}}},
			want: []string{"commit → XADD is the largest stage", "Redis recorded no latency event ≥ 1 ms", "one pipelined round trip"}},
		{name: "redis stalled", rule: "stream append",
			row: report.Target{Ours: "p99 ≤ 3 ms", Scenario: "delivery", Step: StepG19Stream},
			steps: []*report.Step{{Label: StepG19Stream, Slowest: chain(streamStages, 25, 2, 26),
				Waits: &report.Waits{Procs: calm, Redis: &report.RedisWaits{Events: []report.RedisEvent{{Name: "fork", MaxMs: 30}}}}}},
			want: []string{"send → XADD is the largest stage", "fork max 30.0 ms", "remove the stall"}},
		{name: "sender late", rule: "stream append",
			row: report.Target{Ours: "p99 ≤ 3 ms", Scenario: "delivery", Step: StepG19Stream},
			steps: []*report.Step{{Label: StepG19Stream, Slowest: chain(streamStages, 5, 2, 6),
				Waits: &report.Waits{Procs: append([]report.ProcWaits{{Name: "redis", CPUPct: 35}}, calm...), Redis: &report.RedisWaits{}}}},
			want: []string{"redis at 35 % CPU", "bench (generator) at 10 % CPU", "give the bench's sender cores"}},
		{name: "cores full under the edge", rule: "cores full under the edge",
			row: report.Target{Ours: "p99 ≤ 3 ms", Scenario: "delivery", Step: StepG19Stream},
			steps: []*report.Step{{Label: StepG19Stream, Slowest: chain(streamStages, 0.5, 9, 0.4),
				Waits: &report.Waits{Procs: []report.ProcWaits{goProc("edge0", 80, 2, 0.9), goProc("load (2 socket processes)", 95, 2, 0.9), {Name: "redis", CPUPct: 10}}}}},
			want: []string{"XADD → socket is the largest stage", "185 % of 2 cores", "besides edge0 (80 %) being load (2 socket processes) (95 %)", "harness placement"}},
		{name: "edge's own work", rule: "edge",
			row: report.Target{Ours: "last socket within 200 ms p99 of stream entry", Scenario: "delivery", Step: StepAllStream},
			steps: []*report.Step{{Label: StepAllStream, Slowest: chain(streamStages, 1, 150, 0.4),
				Waits: &report.Waits{Procs: calm}}},
			want: []string{"XADD → socket is the largest stage", "edge0 at 30 % CPU, runnable waits p99 ≤ 0.90 ms", "100 % of 2 cores", "XREAD"}},
		{name: "request within budget", rule: "request",
			row: report.Target{Ours: "p99 ≤ 2 ms at 5,000 req/s", Scenario: "rest_read", Step: stepFixed},
			steps: []*report.Step{(&report.Step{Label: stepFixed, Rate: 5000, Slowest: chain(restStages, 0.2, 4),
				Waits: &report.Waits{Procs: calm}}).Set(serverCPUExtra, 60).Set(loadCPUExtra, 30)},
			want: []string{"request is the largest stage", "api 60 µs, load generator 30 µs) fits the 400 µs that 5000/s leaves on 2 cores", "api at 40 % CPU"}},
		{name: "slowest search query", rule: "search query",
			row:   report.Target{Ours: "p99 ≤ 50 ms", Scenario: "search", Step: StepSearch},
			steps: []*report.Step{latencyStep(StepSearch, 600*time.Millisecond, 590*time.Millisecond).Set("q0_median_ms", 24).Set("q1_median_ms", 395).Set("q2_median_ms", 63)},
			want:  []string{"query q1 of the mix takes a median 395 ms alone"}},
		{name: "handshakes within budget", rule: "cpu within budget",
			row: report.Target{Ours: "≥ 5,000 authenticated handshakes/s per edge process", Scenario: "density", Step: StepDensity},
			steps: []*report.Step{(&report.Step{Label: StepDensity, Rate: 10_000}).Set(handshakesExtra, 4000).
				Set(edgeCPUPerHandshakeExtra, 150).Set(loadCPUPerHandshakeExtra, 100).Set("redis_cpu_us_per_handshake", 20)},
			want: []string{"CPU per handshake (edge 150 µs, load generator 100 µs, redis 20 µs) fits the 400 µs that 5000/s leaves on 2 cores", "execution trace"}},
		{name: "auth checks started late", rule: "late starts",
			row:   report.Target{Ours: "p99 ≤ 0.1 ms", Scenario: "auth", Step: stepAuthSeen},
			steps: []*report.Step{latencyStep(stepAuthSeen, 500*time.Microsecond, 20*time.Microsecond)},
			want:  []string{"no breakdown measured", "latency p99 0.50 ms against service p99 0.02 ms"}},
		{name: "auth check slow itself", rule: "slow operation",
			row:   report.Target{Ours: "p99 ≤ 0.1 ms", Scenario: "auth", Step: stepAuthSeen},
			steps: []*report.Step{latencyStep(stepAuthSeen, 500*time.Microsecond, 400*time.Microsecond)},
			want:  []string{"no breakdown measured", "service p99 0.40 ms of latency p99 0.50 ms", "CPU-profile the operation"}},
		{name: "no step at all", rule: "nothing to split",
			row:  report.Target{Ours: "something", Scenario: "elsewhere"},
			want: []string{"no breakdown measured for this row"}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		r := report.NewRun("test")
		r.Machine.Cores, r.Machine.OpenFiles = 2, 20_000
		sc := r.Scenario(c.row.Scenario, "")
		for _, st := range c.steps {
			sc.Add(st)
		}
		var st *report.Step
		if c.row.Step != "" {
			st = sc.Step(c.row.Step)
		}
		rule, next := nextStep(r, c.row, st)
		require.Equal(t, c.rule, rule, c.name)
		for _, w := range c.want {
			require.Contains(t, next, w, c.name)
		}
		require.NotContains(t, next, "\n", c.name)
		covered[rule] = true
	}
	for _, rl := range nextRules {
		require.True(t, covered[rl.name], "rule %q has no case", rl.name)
	}
}

// TestExplainGivesFailRowsTheirNextStep: a measured FAIL row gets a next
// step, with or without a breakdown; a PASS row and a row not measured
// get none.
func TestExplainGivesFailRowsTheirNextStep(t *testing.T) {
	t.Parallel()
	r := report.NewRun("test")
	r.Machine.Cores = 2
	r.Scenario("delivery", "").Add(&report.Step{Label: StepG19API, Slowest: chain(apiStages, 1, 30, 1, 2, 31)})
	r.Targets = []report.Target{
		{What: "fail", Ours: deliveryRow, Scenario: "delivery", Step: StepG19API, Measured: "p99 35 ms"},
		{What: "pass", Ours: deliveryRow, Scenario: "delivery", Step: StepG19API, Measured: "p99 5 ms", Pass: true},
		{What: "absent", Ours: deliveryRow, Scenario: "delivery", NotMeasured: "no edge"},
		{What: "message loss, delivery scenarios", Scenario: "delivery", Measured: "1 lost"},
	}
	Explain(r)
	require.Contains(t, r.Targets[0].Next, "POST → commit is the largest stage")
	require.Empty(t, r.Targets[1].Next)
	require.Empty(t, r.Targets[2].Next)
	require.Contains(t, r.Targets[3].Next, "no delivery was expected")
}
