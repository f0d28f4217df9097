package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/load"
	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
)

// errNoEdge is why WebSocket scenarios cannot run.
func (e *Env) noEdge() string {
	if len(e.Stack.Edges) > 0 {
		return ""
	}
	if why, ok := e.Stack.Missing["edge"]; ok {
		return "the edge was not started: " + why
	}
	return "the stack runs no edge"
}

// sockPlan is one socket to open: its user (an index into World.Users),
// its edge, and the conversations (indexes into World.Conversations) it
// subscribes to.
type sockPlan struct {
	user  int
	edge  int
	convs []int
}

// wsRig is a set of socket children holding planned sockets.
type wsRig struct {
	e       *Env
	name    string
	clients sockets.Clients
	// subs counts, per conversation id, the sockets subscribed to it.
	subs  map[int64]int
	start sockets.Start
	// edgeCPU, loadCPU and redisCPU are the CPU time (user + system) the
	// edges connected to, the socket children and the stack's Redis spent
	// while connecting.
	edgeCPU, loadCPU, redisCPU time.Duration
	// rest has a client per api: a phase's sends go to them in turn.
	rest []*load.HTTP
	// explain has each phase read the stack's waits and break its slowest
	// 1 % down into stages (slowest.go, waits.go).
	explain bool
}

// openSockets spawns children of at most perChild sockets each and
// connects plans to the given edges at rate handshakes per second.
func (e *Env) openSockets(ctx context.Context, name string, plans []sockPlan, perChild int, edges []int, recover bool, rate float64) (*wsRig, error) {
	from, err := e.lastSeqs(ctx)
	if err != nil {
		return nil, err
	}
	r := &wsRig{e: e, name: name, subs: map[int64]int{}}
	apis := e.Stack.APIURLs
	for _, u := range apis {
		r.rest = append(r.rest, load.NewHTTP(u, 64))
	}
	addrs := make([]string, len(edges))
	for i, ei := range edges {
		addrs[i] = e.Stack.Edges[ei].Addr
	}
	var jobs []sockets.Job
	for lo := 0; lo < len(plans); lo += perChild {
		job := sockets.Job{Edges: addrs, API: apis[len(jobs)%len(apis)], Recover: recover, ConnectWorkers: 128}
		for _, p := range plans[lo:min(lo+perChild, len(plans))] {
			sp := sockets.Spec{Token: e.World.Users[p.user].Token, Edge: p.edge % len(addrs)}
			for _, ci := range p.convs {
				c := int64(e.World.Conversations[ci].ID)
				sp.Subs = append(sp.Subs, sockets.Sub{Conv: c, From: from[c]})
				r.subs[c]++
			}
			job.Sockets = append(job.Sockets, sp)
		}
		jobs = append(jobs, job)
	}
	for i := range jobs {
		jobs[i].ConnectRate = rate / float64(len(jobs))
	}
	r.clients, err = sockets.SpawnAll(e.Stack.Binary("bench"), len(jobs), func(i int) (string, string) {
		return fmt.Sprintf("%s-%d", name, i), filepath.Join(e.Stack.Dir(), fmt.Sprintf("sockets-%s-%d.log", name, i))
	})
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, ei := range edges {
		pids = append(pids, e.Stack.Edges[ei].PID())
	}
	var children []int
	for _, c := range r.clients {
		children = append(children, c.PID())
	}
	var redis []int
	if e.Stack.Redis != nil {
		redis = append(redis, e.Stack.Redis.PID())
	}
	edge0, load0, redis0 := cpuOf(pids), cpuOf(children), cpuOf(redis)
	t0 := time.Now()
	r.start, err = r.clients.Start(jobs)
	if err != nil {
		_ = r.close()
		return nil, err
	}
	r.edgeCPU, r.loadCPU, r.redisCPU = cpuOf(pids)-edge0, cpuOf(children)-load0, cpuOf(redis)-redis0
	e.logf("%s: %d of %d sockets connected and subscribed in %s (%.0f/s)", name, r.start.Connected, r.start.Wanted,
		time.Since(t0).Round(time.Millisecond), r.start.Rate)
	return r, nil
}

func (r *wsRig) close() error { return r.clients.Close() }

// cpuOf is the CPU time the processes have used (a process gone counts 0).
func cpuOf(pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		d, _ := stats.CPU(pid)
		sum += d
	}
	return sum
}

// lastSeqs reads every conversation's newest seq: what a client that
// loaded its conversations before subscribing has applied.
func (e *Env) lastSeqs(ctx context.Context) (map[int64]int64, error) {
	rows, err := e.DB.Query(ctx, `SELECT id, last_seq FROM conversations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var c, s int64
		if err := rows.Scan(&c, &s); err != nil {
			return nil, err
		}
		out[c] = s
	}
	return out, rows.Err()
}

// phase is one fixed-rate stream of bench events into conversations of
// one shape, sent through the api (POST …/messages: latency from api
// acceptance) or straight into the shard streams (XADD of an ephemeral
// event: latency from stream entry).
type phase struct {
	label string
	// convs are the conversations (indexes into World.Conversations) the
	// events go to, round robin.
	convs []int
	rate  float64
	secs  float64
	// viaAPI posts messages; otherwise events are appended to the streams.
	viaAPI bool
	// during, when set, runs alongside the sending (the faults).
	during func(ctx context.Context)
	// quiet is how long deliveries may pause before the missing ones are
	// declared lost (Size.SettleQuiet when zero).
	quiet time.Duration
}

// phaseResult is what a phase measured.
type phaseResult struct {
	send load.Result
	rep  sockets.Report
	// deliveries is every subscriber's latency; last the latency of each
	// event's last subscriber.
	deliveries, last *hist.Histogram
	due              []time.Time
	ok               []bool
	// times are each event's stage timestamps (slowest.go), when the rig
	// explains its phases.
	times *stageTimes
	// waits and the breakdowns of the slowest 1 % (every subscriber; each
	// event's last) are set when the rig explains its phases.
	waits          *report.Waits
	slow, slowLast *report.Breakdown
	start, settled time.Time
	// refused counts the sends the api answered 503 (unavailable).
	refused atomic.Int64
}

// phaseSeq numbers phases across the run; the number is in every tag.
var phaseSeq atomic.Uint32

// run sends p and waits until every expected delivery arrived or
// deliveries stopped arriving, then accounts them.
func (r *wsRig) run(ctx context.Context, p phase) (*phaseResult, error) {
	e := r.e
	ph := uint16(phaseSeq.Add(1))
	convs := p.convs
	if len(convs) == 0 {
		return nil, fmt.Errorf("phase %s has no conversations", p.label)
	}
	n := int64(p.rate * p.secs)
	res := &phaseResult{due: make([]time.Time, n), ok: make([]bool, n)}
	if r.explain {
		res.times = newStageTimes(n)
	}
	app := event.NewAppender(e.Redis, e.Keys, 100_000)
	op := func(ctx context.Context, c load.Call) error {
		conv := e.World.Conversations[convs[int(c.I)%len(convs)]]
		var err error
		if p.viaAPI {
			// From api acceptance: latency counts from the POST's due time,
			// so a slow api (or a late sender) is charged in full.
			t := sockets.Tag(ph, uint32(c.I), c.Due)
			res.due[c.I] = c.Due
			poster := conv.Members[posterOf(c.I, len(convs), len(conv.Members))]
			t0 := time.Now()
			_, _, err = r.rest[int(c.I)%len(r.rest)].Do("POST", messagesPath(conv.ID.String()), e.World.Users[poster].Token, messageBody(t), false)
			res.times.sent(c.I, t0, time.Now(), "")
			if se, ok := err.(*load.StatusError); ok && se.Status == 503 {
				res.refused.Add(1)
			}
		} else {
			// From stream entry: latency counts from the moment the XADD is
			// sent (the entry exists within its round trip, which is
			// counted). The edge cannot slow the appends down, so the
			// schedule stays open without charging the bench's own
			// lateness to the edge.
			now := time.Now()
			res.due[c.I] = now
			t := sockets.Tag(ph, uint32(c.I), now)
			var sid string
			sid, err = app.AppendEvent(ctx, rkey.ConversationTopic(conv.ID), probeEvent(conv.ID, now, t))
			res.times.sent(c.I, now, time.Now(), sid)
		}
		res.ok[c.I] = err == nil
		return err
	}
	if p.viaAPI {
		if err := r.warmPosters(ctx, convs); err != nil {
			return nil, err
		}
	}
	var probe *waitProbe
	if r.explain {
		probe = e.startWaits(ctx, r.clients)
	}
	res.start = time.Now()
	done := make(chan struct{})
	if p.during != nil {
		go func() {
			defer close(done)
			p.during(ctx)
		}()
	} else {
		close(done)
	}
	res.send = load.Run(ctx, load.Plan{Rate: p.rate, Ops: n, Workers: workersFor(p.rate), Grace: 5 * time.Second}, op)
	<-done
	var expected int64
	var sent []sockets.Expect
	byConv := map[int64][]uint32{}
	for k := int64(0); k < n; k++ {
		if !res.ok[k] {
			continue
		}
		c := int64(e.World.Conversations[convs[int(k)%len(convs)]].ID)
		byConv[c] = append(byConv[c], uint32(k))
		expected += int64(r.subs[c])
	}
	for c, ks := range byConv {
		sent = append(sent, sockets.Expect{Conv: c, Ks: ks})
	}
	res.settled = r.settle(ctx, ph, expected, p.quiet)
	var tail int
	if probe != nil {
		res.waits = probe.stop(ctx)
		tail = int((expected + 99) / 100)
	}
	rep, h, err := r.clients.ReportTail(ph, sent, tail)
	if err != nil {
		return nil, err
	}
	res.rep, res.deliveries, res.last = rep, h, hist.New()
	for _, v := range rep.Last {
		res.last.RecordValue(v)
	}
	if probe != nil {
		r.explainPhase(ctx, ph, p, res, probe)
	}
	e.logf("%s %s: sent %s; deliveries expected %d delivered %d lost %d dup %d; p99 %.3f ms",
		r.name, p.label, res.send, rep.Expected, rep.Delivered, rep.Lost, rep.Duplicates, hist.Millis(int64(h.Quantile(0.99))))
	return res, nil
}

// posters is how many members of a conversation post in an api-driven
// phase, in turn: their tokens are warmed (seen by the api) first.
const posters = 3

// posterOf is the member index posting event k of a phase over n
// conversations of size members.
func posterOf(k int64, n, size int) int { return (int(k) / n) % min(posters, size) }

// warmPosters has the api verify the tokens of every poster of convs once.
func (r *wsRig) warmPosters(ctx context.Context, convs []int) error {
	var toks []string
	for _, ci := range convs {
		c := r.e.World.Conversations[ci]
		for m := 0; m < min(posters, len(c.Members)); m++ {
			toks = append(toks, r.e.World.Users[c.Members[m]].Token)
		}
	}
	for _, c := range r.rest {
		if err := r.e.warmTokens(ctx, c, toks); err != nil {
			return err
		}
	}
	return nil
}

// settle waits for the phase's deliveries (loadtest/sockets.Clients.Settle)
// within the run's quiet and longest settle times.
func (r *wsRig) settle(ctx context.Context, ph uint16, expected int64, quiet time.Duration) time.Time {
	if quiet <= 0 {
		quiet = seconds(r.e.Size.SettleQuiet)
	}
	return r.clients.Settle(ctx, ph, expected, quiet, seconds(r.e.Size.SettleMax))
}

// probeEvent is the ephemeral event the bench appends straight to a
// conversation's stream: a typing event (no seq, never stored) from user
// 1, whom no socket belongs to, carrying the bench tag.
func probeEvent(conv id.ID, at time.Time, tag string) event.Envelope {
	data, _ := json.Marshal(map[string]string{"user_id": "1", "body": tag})
	return event.Envelope{Type: event.Typing, ConversationID: conv, At: at, Data: data}
}

// step records a phase as a report step.
func (res *phaseResult) step(label string) *report.Step {
	st := report.FromHist(label, res.deliveries)
	sr := res.send
	st.Rate, st.Seconds, st.Due, st.Done, st.Failed, st.Unsent = sr.Plan.Rate, sr.Plan.Duration.Seconds(), sr.Due, sr.Done, sr.Failed, sr.Unsent
	st.Throughput, st.FirstError = sr.Throughput(), sr.FirstError
	st.Set("deliveries_expected", float64(res.rep.Expected))
	st.Set("delivered", float64(res.rep.Delivered))
	st.Set(lossExtra, float64(res.rep.Lost))
	st.Set("duplicates_dropped", float64(res.rep.Duplicates))
	st.Set("unexpected", float64(res.rep.Unexpected))
	st.Set("send_p99_ms", hist.Millis(int64(sr.Latency.Quantile(0.99))))
	st.Set(workersExtra, float64(sr.Plan.Workers))
	st.Set("answered_503", float64(res.refused.Load()))
	st.Slowest, st.Waits = res.slow, res.waits
	return st
}

// lastStep records a phase's per-event last-subscriber latencies.
func (res *phaseResult) lastStep(label string) *report.Step {
	st := report.FromHist(label, res.last)
	st.Set("events", float64(res.last.Count()))
	st.Rate, st.Seconds, st.Due, st.Failed, st.Unsent = res.send.Plan.Rate, res.send.Plan.Duration.Seconds(), res.send.Due, res.send.Failed, res.send.Unsent
	st.Set(lossExtra, float64(res.rep.Lost))
	st.Set("deliveries_expected", float64(res.rep.Expected))
	st.Slowest, st.Waits = res.slowLast, res.waits
	return st
}

// membersPlan is one socket per user 0..n-1 on edges round robin,
// subscribed to every conversation of the user among shapes.
func (e *Env) membersPlan(n int, edges int, shapes ...string) []sockPlan {
	in := map[int]bool{}
	for _, s := range shapes {
		for _, ci := range e.World.ByShape[s] {
			in[ci] = true
		}
	}
	memberOf := e.World.MemberOf()
	plans := make([]sockPlan, 0, n)
	for u := 0; u < n; u++ {
		p := sockPlan{user: u % len(e.World.Users), edge: u % max(1, edges)}
		for _, ci := range memberOf[p.user] {
			if in[ci] {
				p.convs = append(p.convs, ci)
			}
		}
		plans = append(plans, p)
	}
	return plans
}
