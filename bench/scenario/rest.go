package scenario

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/load"
)

// DESIGN.md's REST targets.
const (
	ReadP99       = 2 * time.Millisecond  // at ReadRate
	ReadHeldP99   = 5 * time.Millisecond  // for the highest rate held
	ReadHeldRate  = 20_000.0              // the rate that must be held
	WriteP99      = 5 * time.Millisecond  // at WriteRate
	WriteHeldP99  = 15 * time.Millisecond // for the highest rate held
	WriteHeldRate = 3_000.0
)

// Paths of the messaging endpoints the REST scenarios drive.
func messagesPath(conv string) string { return "/conversations/" + conv + "/messages" }

// errNotServed is an endpoint the api does not serve at this commit.
var errNotServed = errors.New("not served")

// probe asks path once as user 0 and tells a missing route (404 for a
// conversation that exists, 405) from a working one.
func (e *Env) probe(c *load.HTTP, method, path string, body []byte) error {
	st, b, err := c.Do(method, path, e.World.Users[e.World.Conversations[0].Members[0]].Token, body, true)
	if st == 404 || st == 405 {
		return fmt.Errorf("%w: %s %s answers %d %s", errNotServed, method, path, st, load.ClipBody(b))
	}
	return err
}

// readers lists (token, conversation id) pairs of members, spread over the
// 19-member conversations: the reads' population.
func (e *Env) readers(n int) (toks, convs []string) {
	g := e.World.ByShape["g19"]
	for i := 0; i < n; i++ {
		c := e.World.Conversations[g[i%len(g)]]
		u := c.Members[(i/len(g))%len(c.Members)]
		toks = append(toks, e.World.Users[u].Token)
		convs = append(convs, c.ID.String())
	}
	return toks, convs
}

// RESTWrite posts messages (POST /conversations/:id/messages) at the fixed
// rate, then at rising rates until one is not held.
func RESTWrite(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("rest_write", "REST write: POST /conversations/:id/messages")
	c := load.NewHTTP(e.Stack.APIURL, e.Size.HTTPConns)
	conv := e.World.Conversations[0].ID.String()
	if err := e.probe(c, "POST", messagesPath(conv), messageBody("probe")); err != nil {
		sc.NotMeasured = err.Error()
		return nil
	}
	// 2,000 writers, each token seen by the api before the clock starts:
	// a client's token is verified once and then answered from the
	// verified-token cache (a fresh Ed25519 verify per request would
	// measure a population that never sends twice).
	toks, convs := e.readers(min(e.Size.Users, 2000))
	if err := e.warmTokens(ctx, c, toks); err != nil {
		return fmt.Errorf("rest write: %w", err)
	}
	op := func(_ context.Context, call load.Call) error {
		k := int(call.I) % len(toks)
		// Bodies need not be unique (no idempotency key is sent); the due
		// time makes them so anyway, for whoever reads the table.
		_, _, err := c.Do("POST", messagesPath(convs[k]), toks[k], messageBody("w"+strconv.FormatInt(call.Due.UnixNano(), 10)), false)
		return err
	}
	fixed := e.runREST(ctx, sc, stepFixed, e.Size.WriteRate, e.Size.FixedSeconds, op, WriteHeldP99)
	e.ramp(ctx, sc, held(fixed, WriteHeldP99), e.Size.WriteRate, e.Size.WriteSteps, WriteHeldP99, op)
	e.profileREST(ctx, sc, WriteHeldRate, WriteP99, WriteHeldP99, op, func() error {
		c.CloseIdle() // the api was restarted
		return e.warmTokens(ctx, c, toks)
	})
	return nil
}

// RESTRead reads, alternately, a member's conversation list (GET
// /conversations) and a conversation's newest page of messages (GET
// /conversations/:id/messages), for a population of members whose answers
// the api has cached (each is read once before the clock starts).
func RESTRead(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("rest_read", "REST cached read: GET /conversations and GET /conversations/:id/messages")
	c := load.NewHTTP(e.Stack.APIURL, e.Size.HTTPConns)
	conv := e.World.Conversations[0].ID.String()
	for _, p := range []string{"/conversations", messagesPath(conv) + "?limit=50"} {
		if err := e.probe(c, "GET", p, nil); err != nil {
			sc.NotMeasured = err.Error()
			return nil
		}
	}
	toks, convs := e.readers(min(e.Size.Users, 2000))
	// Every request is built once: the generator shares the cores with
	// the api, and what it spends formatting is not spent serving.
	reqs := make([]*load.Prepared, 0, 2*len(toks))
	for k := range toks {
		reqs = append(reqs, c.Prepare("GET", "/conversations", toks[k], nil),
			c.Prepare("GET", messagesPath(convs[k])+"?limit=50", toks[k], nil))
	}
	op := func(_ context.Context, call load.Call) error {
		_, err := c.Send(reqs[int(call.I)%len(reqs)])
		return err
	}
	// Warm: every (reader, path) once, so the measured reads are cache hits.
	for k := range reqs {
		if err := op(ctx, load.Call{I: int64(k)}); err != nil {
			return fmt.Errorf("rest read: warm: %w", err)
		}
	}
	if err := e.floor(ctx, sc, toks[0]); err != nil {
		e.logf("rest_read: floor: %v", err)
	}
	fixed := e.runREST(ctx, sc, stepFixed, e.Size.ReadRate, e.Size.FixedSeconds, op, ReadHeldP99)
	e.ramp(ctx, sc, held(fixed, ReadHeldP99), e.Size.ReadRate, e.Size.ReadSteps, ReadHeldP99, op)
	e.profileREST(ctx, sc, ReadHeldRate, ReadP99, ReadHeldP99, op, func() error {
		c.CloseIdle()         // the api was restarted
		for k := range reqs { // a restarted api has cold caches: read everything once again
			if err := op(ctx, load.Call{I: int64(k)}); err != nil {
				return err
			}
		}
		return nil
	})
	return nil
}

// profileREST reruns, with the api under a CPU profile, the fixed step when
// it missed fixedP99, and the first ramp step not held when the highest
// rate held is below need, and records the profiles on those steps.
func (e *Env) profileREST(ctx context.Context, sc *report.Scenario, need float64, fixedP99, heldP99 time.Duration, op load.Op, warm func() error) {
	if !e.Size.Profile || len(sc.Steps) == 0 {
		return
	}
	var todo []*report.Step
	if f := sc.Step(stepFixed); f != nil && time.Duration(f.Latency.P99) > fixedP99 {
		todo = append(todo, f)
	}
	best := 0.0
	var miss *report.Step
	for _, st := range sc.Steps {
		if h, ramped := st.Extra["held"]; !ramped {
			continue // the floor: not a step of the api's
		} else if h == 1 {
			best = max(best, st.Rate)
		} else if miss == nil && st.Label != stepFixed {
			miss = st
		}
	}
	if best < need && miss != nil {
		todo = append(todo, miss)
	}
	for _, st := range todo {
		var again load.Result
		rate := st.Rate
		e.profileAPI(ctx, sc.Name+"-"+strconv.Itoa(int(rate)), func() error {
			// Best effort: a cold cache shows in the profile, not as a failure.
			if err := warm(); err != nil {
				e.logf("%s: profiled rerun: warm: %v", sc.Name, err)
			}
			return nil
		}, func() error {
			again = load.Run(ctx, load.Plan{Rate: rate, Duration: seconds(e.Size.StepSeconds), Workers: workersFor(rate),
				Grace: 2 * time.Second}, op)
			return nil
		}, st)
		if again.Latency != nil { // nil when the profiled api did not start
			sc.Add(report.FromLoad(st.Label+", profiled rerun", again))
		}
	}
}

// warmTokens makes the api verify each token once (GET /me), as it has for
// any client that sent a request before, with a few requests in flight.
func (e *Env) warmTokens(ctx context.Context, c *load.HTTP, toks []string) error {
	seen := map[string]bool{}
	var uniq []string
	for _, t := range toks {
		if !seen[t] {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	// A pass that was answered 503 (a dependency slow on a loaded
	// machine) is run again; tokens seen already cost little.
	var r load.Result
	for range 3 {
		r = load.Run(ctx, load.Plan{Rate: 5000, Ops: int64(len(uniq)), Workers: 32, Grace: time.Minute},
			func(_ context.Context, call load.Call) error {
				_, _, err := c.Do("GET", "/me", uniq[call.I], nil, false)
				return err
			})
		if r.Failed == 0 && r.Unsent == 0 {
			return nil
		}
	}
	return fmt.Errorf("warm tokens: %d failed, %d unsent: %s", r.Failed, r.Unsent, r.FirstError)
}

// runREST runs one fixed-rate step and records it.
// workersFor is how many operations a generator keeps in flight at rate:
// enough for 200 ms each before the driver, not the server, would be the
// queue (that waiting would still be counted).
func workersFor(rate float64) int { return max(64, int(rate/5)) }

func (e *Env) runREST(ctx context.Context, sc *report.Scenario, label string, rate, secs float64, op load.Op, target time.Duration) load.Result {
	workers := workersFor(rate)
	var (
		r     load.Result
		slow  *report.Breakdown
		waits *report.Waits
	)
	cpu := e.cpuPerRequest(e.Stack.API.PID(), func() int64 {
		r, slow, waits = e.runRESTExplained(ctx, load.Plan{Rate: rate, Duration: seconds(secs), Workers: workers, Grace: 2 * time.Second}, op)
		return r.Done + r.Failed
	})
	e.logf("%s %s: %s; %s", sc.Name, label, r, cpu)
	if slow != nil && (cpu.server > 0 || cpu.load > 0) {
		slow.Phase = append(slow.Phase, cpu.String())
	}
	if label != stepFixed {
		label = fmt.Sprintf("%s %.0f/s", label, rate)
	}
	st := sc.Add(report.FromLoad(label, r))
	st.Slowest, st.Waits = slow, waits
	st.Set("held", b2f(held(r, target)))
	st.Set(workersExtra, float64(r.Plan.Workers))
	cpu.set(st)
	// A pause, not a wait for a condition: it lets a backlog the step left
	// in the api drain before the next step's clock starts.
	time.Sleep(500 * time.Millisecond)
	return r
}

// ramp looks for the highest rate held at target: it tries rates upward
// and stops after the first not held; when neither they nor the fixed rate
// were held, it halves the fixed rate until a rate is held (at most four
// times), so the row can say what the system does hold rather than only
// what it does not.
func (e *Env) ramp(ctx context.Context, sc *report.Scenario, fixedHeld bool, fixed float64, rates []float64, target time.Duration, op load.Op) {
	run := func(label string, rate float64) bool {
		return held(e.runREST(ctx, sc, label, rate, e.Size.StepSeconds, op, target), target)
	}
	heldAny := fixedHeld
	for _, rate := range rates {
		if !run("ramp", rate) || ctx.Err() != nil {
			break
		}
		heldAny = true
	}
	for rate, i := fixed/2, 0; !heldAny && i < 4 && ctx.Err() == nil; rate, i = rate/2, i+1 {
		heldAny = run("ramp down", rate)
	}
}

// held reports whether a step ran clean with p99 within target and its
// throughput kept up with its rate.
func held(r load.Result, target time.Duration) bool {
	return r.Clean() && r.Latency.Quantile(0.99) <= target && r.Throughput() >= 0.95*r.Plan.Rate
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// messageBody is a message send with a body the deliveries can be told
// apart by.
func messageBody(body string) []byte {
	return []byte(`{"body":` + strconv.Quote(body) + `}`)
}
