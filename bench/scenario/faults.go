package scenario

import (
	"context"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/bench/report"
)

// Faults runs the judged kind of load (messages through the api to
// conversations of 19) to clients that recover as PROTOCOL.md says
// (reconnect, re-subscribe, GET …/events?after_seq on a gap or after a
// reconnect), and restarts one piece during each phase: an edge (killed,
// as a crash), Redis, Postgres, the worker. Loss is counted after
// recovery; the recovery time is from the restart's start until the events
// sent while the piece was away (or, when none could be accepted, the
// first one accepted after it) had reached their last subscriber.
func Faults(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("faults", "Faults during delivery: restarts with recovering clients")
	if why := e.noEdge(); why != "" {
		sc.NotMeasured = why
		return nil
	}
	n := min(e.Size.FaultSockets, len(e.World.Users))
	edges := []int{0}
	if len(e.Stack.Edges) > 1 {
		edges = []int{0, 1}
	}
	// Conversations of 19 whose members all hold a socket.
	var convs []int
	for _, ci := range e.World.ByShape["g19"] {
		inside := true
		for _, m := range e.World.Conversations[ci].Members {
			inside = inside && m < n
		}
		if inside {
			convs = append(convs, ci)
		}
	}
	plans := e.membersPlan(n, len(edges), "g19")
	r, err := e.openSockets(ctx, "faults", plans, e.Size.PerChild, edges, true, e.Size.ConnectRate)
	if err != nil {
		return err
	}
	defer r.close()
	connectStep(sc, r, e.Size.ConnectRate)
	victim := edges[len(edges)-1]
	restarts := map[string]func(context.Context) error{
		FaultSteps[0]: func(ctx context.Context) error { return e.Stack.RestartEdge(ctx, victim, syscall.SIGKILL) },
		FaultSteps[1]: e.Stack.RestartRedis,
		FaultSteps[2]: e.Stack.RestartPostgres,
		FaultSteps[3]: func(ctx context.Context) error { return e.Stack.RestartWorker(ctx, syscall.SIGTERM) },
	}
	for _, name := range FaultSteps {
		if name == FaultSteps[3] && e.Stack.Worker == nil {
			sc.Add(&report.Step{Label: name, FirstError: "not measured: the worker was not started: " + e.Stack.Missing["worker"]})
			continue
		}
		before, _ := r.clients.Status()
		var injected, ready time.Time
		var restartErr error
		res, err := r.run(ctx, phase{label: name, convs: convs, rate: e.Size.FaultRate, secs: e.Size.FaultSecs, viaAPI: true,
			quiet: seconds(e.Size.FaultQuiet),
			during: func(ctx context.Context) {
				time.Sleep(seconds(e.Size.FaultAt)) // the fault comes this far into the phase, by design
				injected = time.Now()
				restartErr = restarts[name](ctx)
				ready = time.Now()
			}})
		if err != nil {
			return err
		}
		after, _ := r.clients.Status()
		st := sc.Add(res.step(name))
		if restartErr != nil {
			st.FirstError = "restart: " + restartErr.Error()
		}
		st.Set(recoveryExtra, recovery(res, injected, ready).Seconds())
		st.Set("down_s", ready.Sub(injected).Seconds())
		st.Set("reconnects", float64(after.Reconnects-before.Reconnects))
		st.Set("replay_fetches", float64(after.Fetches-before.Fetches))
		st.Set("replay_errors", float64(after.FetchErrs-before.FetchErrs))
		st.Set("resyncs", float64(after.Resyncs-before.Resyncs))
		e.logf("fault %s: down %.2fs, recovered in %.2fs, lost %d", name, ready.Sub(injected).Seconds(),
			st.Extra[recoveryExtra], res.rep.Lost)
	}
	return nil
}

// recovery is how long after injected the events sent while the piece was
// away reached their last subscriber; when none was accepted then, it uses
// the first event accepted after injected.
func recovery(res *phaseResult, injected, ready time.Time) time.Duration {
	if injected.IsZero() {
		return 0
	}
	var end time.Time
	first := -1
	for k, due := range res.due {
		if !res.ok[k] || due.Before(injected) {
			continue
		}
		lat, got := res.rep.Last[uint32(k)]
		if !got {
			continue
		}
		at := due.Add(time.Duration(lat))
		if !due.After(ready) {
			if at.After(end) {
				end = at
			}
		} else if first < 0 || due.Before(res.due[first]) {
			first = k
		}
	}
	if end.IsZero() && first >= 0 {
		end = res.due[first].Add(time.Duration(res.rep.Last[uint32(first)]))
	}
	if end.IsZero() {
		return 0
	}
	return end.Sub(injected)
}
