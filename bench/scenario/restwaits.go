package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/load"
)

// The REST rows' slowest 1 %: each request's time from its due time split
// at the generator into its wait for a worker (due → sent) and the request
// itself (sent → answered: the network both ways, the api, and the
// generator reading the answer), beside the api's own view over the phase
// (chatterly_api_request_duration_seconds: the handler's time; the
// Postgres pool's acquires and their waits). A request far slower than the
// api's handler time waited outside the handler: in the kernel, for the
// api's CPU, or for the generator's.

var restStages = []string{"generator wait", "request"}

// callTimes are, per call of a step, when it was due, sent and answered
// (Unix ns; 0 for a call that was not made).
type callTimes struct {
	due, start, end []int64
}

// timeCalls wraps op to record the times of calls 0..n-1.
func timeCalls(op load.Op, n int) (load.Op, *callTimes) {
	t := &callTimes{due: make([]int64, n), start: make([]int64, n), end: make([]int64, n)}
	return func(ctx context.Context, c load.Call) error {
		start := time.Now()
		err := op(ctx, c)
		if c.I >= 0 && int(c.I) < n {
			t.due[c.I], t.start[c.I], t.end[c.I] = c.Due.UnixNano(), start.UnixNano(), time.Now().UnixNano()
		}
		return err
	}, t
}

// slowest is the breakdown of the slowest 1 % of the calls made.
func (t *callTimes) slowest() *report.Breakdown {
	var all []report.Sample
	for i := range t.due {
		if t.end[i] == 0 {
			continue
		}
		all = append(all, report.Sample{Total: float64(t.end[i]-t.due[i]) / 1e6,
			Stages: []float64{float64(t.start[i]-t.due[i]) / 1e6, float64(t.end[i]-t.start[i]) / 1e6}})
	}
	return report.Slowest(len(all), all, restStages)
}

// runRESTExplained runs one REST step as run does, reading the stack's
// waits around it and breaking its slowest 1 % down.
func (e *Env) runRESTExplained(ctx context.Context, plan load.Plan, op load.Op) (load.Result, *report.Breakdown, *report.Waits) {
	op, times := timeCalls(op, int(plan.Rate*plan.Duration.Seconds())+1)
	probe := e.startWaits(ctx, nil)
	r := load.Run(ctx, plan, op)
	waits := probe.stop(ctx)
	b := times.slowest()
	if b != nil {
		b.Phase = apiLines(probe)
		b.Note = "times taken at the generator"
	}
	return r, b, waits
}

// apiLines are the first api's own timings over the phase.
func apiLines(probe *waitProbe) []string {
	if len(probe.e.Stack.APIs) == 0 {
		return nil
	}
	api := probe.e.Stack.APIs[0].Name
	var out []string
	if h, ok := probe.hist(api, "chatterly_api_request_duration_seconds"); ok && h.Count() > 0 {
		out = append(out, histLine("api handler time", h))
	}
	n, ok1 := probe.counter(api, "chatterly_api_db_pool_acquires_total")
	secs, ok2 := probe.counter(api, "chatterly_api_db_pool_acquire_seconds_total")
	empty, _ := probe.counter(api, "chatterly_api_db_pool_empty_acquires_total")
	if ok1 && ok2 && n > 0 {
		out = append(out, fmt.Sprintf("Postgres pool %.0f acquires, %.0f found no idle connection, mean wait %.3f ms", n, empty, 1000*secs/n))
	}
	return out
}
