package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/stretchr/testify/require"
)

func stepWith(label string, p99 time.Duration) *report.Step {
	h := hist.New()
	// 95 % at half the p99 and 5 % at it: the p99 is p99.
	for i := 0; i < 950; i++ {
		h.Record(p99 / 2)
	}
	for i := 0; i < 50; i++ {
		h.Record(p99)
	}
	return report.FromHist(label, h)
}

// TestTargetsJudgeFiguresAsDesignStatesThem feeds the judge figures on
// both sides of each kind of target and checks every verdict.
func TestTargetsJudgeFiguresAsDesignStatesThem(t *testing.T) {
	t.Parallel()
	r := report.NewRun("test")
	r.Machine.OpenFiles, r.Machine.Cores, r.Machine.MemoryMiB = 20_000, 2, 24_000
	r.Scenario("auth", "").Add(stepWith(stepAuthSeen, 90*time.Microsecond))
	rr := r.Scenario("rest_read", "")
	rr.Add(stepWith(stepFixed, 3*time.Millisecond)).Set("held", 0)
	rr.Add(stepWith("ramp 10000/s", 4*time.Millisecond)).Set("held", 1).Rate = 10_000
	rr.Add(stepWith("ramp 15000/s", 9*time.Millisecond)).Set("held", 0).Rate = 15_000
	r.Scenario("rest_write", "").NotMeasured = "not served"
	rw := report.NewRun("test")
	w := rw.Scenario("rest_write", "")
	w.Add(stepWith(stepFixed, 30*time.Millisecond)).Set("held", 0).Rate = 1000
	w.Add(stepWith("ramp down 500/s", 20*time.Millisecond)).Set("held", 0).Rate = 500
	w.Add(stepWith("ramp down 250/s", 16*time.Millisecond)).Set("held", 0).Rate = 250
	w.Add(stepWith("fixed rate, profiled rerun", time.Second)).Rate = 1000
	for _, row := range Targets(rw) {
		if strings.HasPrefix(row.What, "REST write, highest") {
			require.Equal(t, "no rate held, down to 250/s (p99 16.000 ms there); at 1000/s: p99 30.000 ms, throughput 0/s, 0 failed, 0 unsent", row.Measured)
		}
	}
	d := r.Scenario("delivery", "")
	d.Add(stepWith(StepG19API, 8*time.Millisecond)).Set(lossExtra, 0).Set("deliveries_expected", 100)
	d.Add(stepWith(StepG19Stream, 2*time.Millisecond)).Set(lossExtra, 1).Set("deliveries_expected", 100)
	d.Add(stepWith(StepAllStream, 150*time.Millisecond))
	r.Scenario("fanout", "").Add(&report.Step{Label: StepFanout}).Set(framesExtra, 120_000).Set(cpuPerFrameExtra, 12)
	dens := r.Scenario("density", "").Add(&report.Step{Label: StepDensity, Rate: 10_000}).Set(socketsExtra, 19_900).Set(bytesPerSockExtra, 900)
	dens.Set(handshakesExtra, 5_200).Set("sockets_connected", 19_900).Set(edgeCPUPerHandshakeExtra, 180).Set(loadCPUPerHandshakeExtra, 150)
	r.Scenario("search", "").Add(stepWith(StepSearch, 60*time.Millisecond))
	f := r.Scenario("faults", "")
	f.Add(&report.Step{Label: FaultSteps[0]}).Set(lossExtra, 0).Set("deliveries_expected", 50).Set(recoveryExtra, 1.5)
	f.Add(&report.Step{Label: FaultSteps[3], FirstError: "not measured: no worker"})

	verdict := map[string]string{}
	rows := Targets(r)
	require.Len(t, rows, 14+2+len(FaultSteps)+len(FleetFaultSteps))
	for _, row := range rows {
		verdict[row.What] = row.Verdict()
		require.Contains(t, []string{"PASS", "FAIL"}, row.Verdict())
	}
	get := func(prefix string) report.Target {
		for _, row := range rows {
			if strings.HasPrefix(row.What, prefix) {
				return row
			}
		}
		t.Fatalf("no row %q", prefix)
		return report.Target{}
	}
	require.Equal(t, "PASS", get("auth check").Verdict())
	require.Equal(t, "FAIL", get("REST read (cache hit), 5,000").Verdict()) // 3 ms > 2 ms
	held := get("REST read (cache hit), highest")
	require.Equal(t, "FAIL", held.Verdict()) // 10,000 held < 20,000
	require.Contains(t, held.Measured, "10000 req/s held")
	require.Contains(t, held.Measured, "at 15000/s")
	require.Equal(t, "not served", get("REST write, 1,000").NotMeasured)
	require.Equal(t, "PASS", get("WebSocket delivery, write accepted").Verdict())
	require.Equal(t, "FAIL", get("WebSocket delivery, stream entry").Verdict(), "a lost delivery fails the row")
	require.Equal(t, "PASS", get("WebSocket delivery, one event").Verdict())
	require.Equal(t, "PASS", get("sustained fan-out").Verdict())
	require.Equal(t, "FAIL", get("edge CPU").Verdict()) // 12 µs > 11 µs
	require.Equal(t, "PASS", get("user-space memory").Verdict())
	require.Equal(t, "PASS", get("concurrent WebSockets held by one").Verdict())
	hs := get("authenticated WebSocket handshakes")
	require.Equal(t, "PASS", hs.Verdict()) // 5,200/s ≥ 5,000/s
	require.Equal(t, "5200/s (19900 sockets, 10000/s offered); CPU per handshake: edge 180 µs, load generator 150 µs, Redis 0 µs", hs.Measured)
	require.NotEmpty(t, get("concurrent WebSockets, fleet").NotMeasured)
	require.Equal(t, "FAIL", get("message search").Verdict()) // 60 ms > 50 ms
	require.Equal(t, "FAIL", get("message loss, delivery").Verdict())
	require.Equal(t, "PASS", get("message loss during edge restart").Verdict())
	require.Equal(t, "not measured: no worker", get("message loss during worker restart").NotMeasured)
	require.NotEmpty(t, get("message loss during redis restart").NotMeasured)
	require.Equal(t, "the fleet scenario did not run", get("message loss during redis master failover").NotMeasured)

	// The handshake row on its other side: under the target, or a
	// handshake that failed.
	for _, c := range []struct {
		rate   float64
		failed int64
	}{{4_900, 0}, {6_000, 3}} {
		slow := report.NewRun("test")
		slow.Scenario("density", "").Add(&report.Step{Label: StepDensity, Failed: c.failed, Where: heapWhere + "10% hub"}).Set(handshakesExtra, c.rate)
		for _, row := range Targets(slow) {
			if strings.HasPrefix(row.What, "authenticated WebSocket handshakes") {
				require.Equal(t, "FAIL", row.Verdict(), "%v", c)
				require.Empty(t, row.Where, "the memory row's heap profile is not the handshakes'")
			}
		}
	}

	est := strings.Join(Estimate(r), "\n")
	require.Contains(t, est, "⌈1,000,000 / 19900⌉ = 51 edge processes")
	require.Contains(t, est, "12.00 µs")
}

func TestEstimateNeedsMeasuredFigures(t *testing.T) {
	t.Parallel()
	r := report.NewRun("test")
	r.Scenario("density", "").NotMeasured = "no edge"
	require.Contains(t, Estimate(r)[0], "Not estimated")
}
