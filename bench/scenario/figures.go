package scenario

import (
	"fmt"

	"github.com/chatterly/chatterly/bench/report"
)

// measuredStep is the step label of scenario, when the scenario was measured.
func measuredStep(r *report.Run, scenario, label string) *report.Step {
	if sc := scenarioOf(r, scenario); sc != nil && sc.NotMeasured == "" {
		return sc.Step(label)
	}
	return nil
}

// Figures lists the reported figures that have no target row of their
// own, from the run's steps; a figure whose step is missing is left out
// (its scenario's section says why).
func Figures(r *report.Run) []report.Figure {
	var out []report.Figure
	step := func(scenario, label string) *report.Step { return measuredStep(r, scenario, label) }
	if st := step("auth", "new token, new session"); st != nil {
		out = append(out, report.Figure{What: "auth check, a token never seen (Ed25519 verify + denylist read from Redis)",
			Value: fmt.Sprintf("p50 %s, p99 %s ms", msf(st.Latency.P50), msf(st.Latency.P99)),
			Note:  fmt.Sprintf("%.0f checks/s", st.Rate)})
	}
	if st := step("density", StepDensity); st != nil {
		out = append(out, report.Figure{What: "edge resident memory, idle process and with the sockets held",
			Value: fmt.Sprintf("%.1f MiB → %.1f MiB", st.Extra["edge_rss_idle_process_bytes"]/(1<<20), st.Extra["edge_rss_bytes"]/(1<<20))})
	}
	if st := step("faults", FaultSteps[0]); st != nil {
		if v, ok := st.Extra[stormExtra]; ok {
			out = append(out, report.Figure{What: "reconnect storm after an edge restart (killed): every socket subscribed again",
				Value: fmt.Sprintf("%.2f s after the kill", v),
				Note: fmt.Sprintf("%.0f sockets reconnected; edge down (kill → answering) %.2f s; clients wait 10 ms–1 s (jittered backoff) before each attempt, which is in the time",
					st.Extra[stormSocketsExtra], st.Extra["down_s"])})
		}
	}
	if st := step("fleet", StepFleet); st != nil {
		out = append(out, report.Figure{What: "fleet delivery, write accepted → every subscriber, across the edges",
			Value: fmt.Sprintf("p50 %s, p99 %s, p999 %s ms", msf(st.Latency.P50), msf(st.Latency.P99), msf(st.Latency.P999)),
			Note:  fmt.Sprintf("%.0f sockets on %.0f edges; %.0f lost", st.Extra[socketsExtra], st.Extra["edges"], st.Extra[lossExtra])})
	}
	if sc := scenarioOf(r, "delivery"); sc != nil && sc.NotMeasured == "" {
		for _, st := range sc.Steps {
			switch st.Label {
			case StepG19API, StepG19Stream, StepAllStream, "connect and subscribe":
				continue
			}
			note := fmt.Sprintf("%.0f deliveries, %.0f lost", st.Extra["delivered"], st.Extra[lossExtra])
			if n, ok := st.Extra["events"]; ok {
				note = fmt.Sprintf("per event, its last socket: %.0f events", n)
			}
			out = append(out, report.Figure{What: "delivery, " + st.Label,
				Value: fmt.Sprintf("p50 %s, p99 %s, p999 %s ms", msf(st.Latency.P50), msf(st.Latency.P99), msf(st.Latency.P999)), Note: note})
		}
	}
	return out
}
