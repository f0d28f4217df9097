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
	edges := []int{0}
	if len(e.Stack.Edges) > 1 {
		edges = []int{0, 1}
	}
	r, convs, err := e.faultRig(ctx, sc, "faults", edges)
	if err != nil {
		return err
	}
	defer r.close()
	victim := edges[len(edges)-1]
	worker := ""
	if e.Stack.Worker == nil {
		worker = "not measured: the worker was not started: " + e.Stack.Missing["worker"]
	}
	return e.faultPhases(ctx, sc, r, convs, []fault{
		{name: FaultSteps[0], inject: func(ctx context.Context) error { return e.Stack.RestartEdge(ctx, victim, syscall.SIGKILL) }, storm: true},
		{name: FaultSteps[1], inject: e.Stack.RestartRedis},
		{name: FaultSteps[2], inject: e.Stack.RestartPostgres},
		{name: FaultSteps[3], inject: func(ctx context.Context) error { return e.Stack.RestartWorker(ctx, syscall.SIGTERM) }, skip: worker},
	})
}

// faultRig opens FaultSockets recovering sockets over edges, one per
// user, and returns them with the conversations of 19 whose members all
// hold one.
func (e *Env) faultRig(ctx context.Context, sc *report.Scenario, name string, edges []int) (*wsRig, []int, error) {
	n := min(e.Size.FaultSockets, len(e.World.Users))
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
	r, err := e.openSockets(ctx, name, e.membersPlan(n, len(edges), "g19"), e.Size.PerChild, edges, true, e.Size.ConnectRate)
	if err != nil {
		return nil, nil, err
	}
	connectStep(sc, r, e.Size.ConnectRate).Label += ", " + name
	return r, convs, nil
}

// fault is one fault phase: inject breaks a piece and returns once it
// answers again; after, when set, restores what the next phase needs once
// the phase is over (not timed); skip, when set, says why it is not run.
type fault struct {
	name   string
	inject func(context.Context) error
	after  func() error
	skip   string
	// storm: the restarted piece's clients all reconnect to it; the time
	// until every socket is subscribed again is recorded (stormExtra).
	storm bool
}

// stormExtra is the seconds from the edge's kill until every socket of the
// rig was subscribed again (its restart included: a socket may reconnect
// as soon as the new process accepts, before it is seen answering); stormSocketsExtra how many
// reconnected meanwhile.
const (
	stormExtra        = "resubscribed_s"
	stormSocketsExtra = "reconnects"
)

// resubscribed polls until every socket of r is open and subscribed again
// and returns when that was seen (zero if not within limit).
func (r *wsRig) resubscribed(ctx context.Context, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if st, err := r.clients.Status(); err == nil && st.Subscribed >= r.start.Connected {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	return time.Time{}
}

// faultPhases runs one phase of the judged load (FaultRate messages/s
// through the api into convs, for FaultSecs) per fault, injected FaultAt
// seconds in, with the clients of r recovering, and records each as a
// step: loss after recovery, recovery time, time down, reconnects and
// replays, and the sends answered 503.
func (e *Env) faultPhases(ctx context.Context, sc *report.Scenario, r *wsRig, convs []int, faults []fault) error {
	for _, f := range faults {
		if f.skip != "" {
			sc.Add(&report.Step{Label: f.name, FirstError: f.skip})
			continue
		}
		before, _ := r.clients.Status()
		var injected, ready, whole time.Time
		var restartErr error
		res, err := r.run(ctx, phase{label: f.name, convs: convs, rate: e.Size.FaultRate, secs: e.Size.FaultSecs, viaAPI: true,
			quiet: seconds(e.Size.FaultQuiet),
			during: func(ctx context.Context) {
				time.Sleep(seconds(e.Size.FaultAt)) // the fault comes this far into the phase, by design
				injected = time.Now()
				restartErr = f.inject(ctx)
				ready = time.Now()
				if f.storm && restartErr == nil {
					whole = r.resubscribed(ctx, 15*time.Second)
				}
			}})
		if err != nil {
			return err
		}
		after, _ := r.clients.Status()
		st := sc.Add(res.step(f.name))
		if f.after != nil && restartErr == nil {
			restartErr = f.after()
		}
		if restartErr != nil {
			st.FirstError = "restart: " + restartErr.Error()
		}
		st.Set(recoveryExtra, recovery(res, injected, ready).Seconds())
		st.Set("down_s", ready.Sub(injected).Seconds())
		st.Set(stormSocketsExtra, float64(after.Reconnects-before.Reconnects))
		if !whole.IsZero() {
			st.Set(stormExtra, whole.Sub(injected).Seconds())
		}
		st.Set("replay_fetches", float64(after.Fetches-before.Fetches))
		st.Set("replay_errors", float64(after.FetchErrs-before.FetchErrs))
		st.Set("resyncs", float64(after.Resyncs-before.Resyncs))
		e.logf("fault %s: down %.2fs, recovered in %.2fs, lost %d, %d sends answered 503", f.name, ready.Sub(injected).Seconds(),
			st.Extra[recoveryExtra], res.rep.Lost, res.refused.Load())
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
