package scenario

import (
	"fmt"
	"strings"

	"github.com/chatterly/chatterly/bench/report"
)

// The next step of a FAIL row: one sentence, chosen from what the row's
// step measured, that names the figure which chose it and where to act.
// The rules (nextRules) are tried in order and the first that holds
// speaks: first what a row judges other than time (loss, sockets held,
// memory, failed operations), then what costs a row whichever stage is
// slow (a Go process busy collecting garbage, a rate offered below the
// target, more CPU per operation than the target's rate leaves on the
// cores, runnable goroutines waiting for a thread about as long as the
// slow operations took), then the largest stage of the slowest 1 %, then
// what a row without a breakdown has. A sentence says where to act, never
// what acting will yield.

// Thresholds of the rules that override the breakdown.
const (
	// GC taking a tenth of a core and a quarter of its process's own CPU
	// is that process's largest single cost, whichever stage is slow.
	gcHeavyPct   = 10.0
	gcHeavyShare = 0.25
	// Runnable goroutines waiting this long at p99 for a thread, and at
	// least half as long as the fastest of the slowest 1 % took, explain
	// the tail by themselves.
	schedLongMs = 5.0
	// Processes using this share of the cores over a phase leave a process
	// that wants more waiting for one.
	coresFull = 0.9
	// A WAL fsync averaging this long is felt by every write that waits
	// for its commit.
	slowFsyncMs = 1.0
	// Operations whose own time (service p99) is under this share of their
	// latency p99 spent most of it waiting to start.
	lateShare = 0.5
)

// nextFacts is what the rules read of one FAIL row.
type nextFacts struct {
	run   *report.Run
	row   report.Target
	st    *report.Step // nil when the row names no measured step
	cores float64
	// top is the chain stage of the slowest 1 % with the largest median
	// (latency rows with a breakdown, else nil); share is its part of the
	// chain's medians.
	top   *report.Stage
	share float64
	cost  *opCost
	// gc and sched are the Go processes past the GC and scheduler
	// thresholds (nil when none is).
	gc, sched *report.ProcWaits
	// lost and expected are a loss row's deliveries.
	lost, expected float64
}

// nextRules are tried in order; the first whose when holds writes the
// row's next step.
var nextRules = []struct {
	name string
	when func(f *nextFacts) bool
	say  func(f *nextFacts) string
}{
	// What a row judges other than time: its answer is not in the waits.
	{"loss", func(f *nextFacts) bool { return strings.HasPrefix(f.row.What, "message loss") }, sayLoss},
	{"sockets held", func(f *nextFacts) bool { return f.st != nil && strings.HasPrefix(f.row.What, "concurrent WebSockets") }, saySockets},
	{"memory per socket", func(f *nextFacts) bool { return f.st != nil && strings.Contains(f.row.Ours, "KB") }, sayMemory},
	{"failed operations", func(f *nextFacts) bool { return f.st != nil && f.st.Failed > 0 }, sayFailed},
	// What costs a row whichever stage is slow.
	{"gc", func(f *nextFacts) bool { return f.gc != nil }, sayGC},
	{"offered below target", func(f *nextFacts) bool { return f.cost != nil && f.cost.offered > 0 && f.cost.offered < f.cost.need }, sayOffered},
	{"cpu over budget", func(f *nextFacts) bool { return f.cost != nil && f.cost.total() > f.cost.budget }, sayBudget},
	{"scheduler", func(f *nextFacts) bool { return f.sched != nil }, saySched},
	// The largest stage of the slowest 1 %.
	{"generator workers taken", func(f *nextFacts) bool { return topIs("generator wait")(f) && f.workersTaken() }, sayWorkersTaken},
	{"generator wait", topIs("generator wait"), sayGenerator},
	{"commit wait", func(f *nextFacts) bool {
		return topIs("POST → commit")(f) || topIs("request")(f) && f.row.Scenario == "rest_write" && fsyncMs(f.waits()) >= slowFsyncMs
	}, sayCommit},
	{"publish after commit", topIs("commit → XADD"), sayPublish},
	{"stream append", topIs("send → XADD"), sayAppend},
	{"cores full under the edge", func(f *nextFacts) bool { return topIs("XADD → socket")(f) && f.coresFull() }, sayCoresFull},
	{"edge", topIs("XADD → socket"), sayEdge},
	{"request", topIs("request"), sayRequest},
	// No breakdown: what the row's step has instead.
	{"search query", func(f *nextFacts) bool { return f.row.Scenario == "search" && slowestQuery(f.st) >= 0 }, saySearch},
	{"cpu within budget", func(f *nextFacts) bool { return f.cost != nil && f.cost.need > 0 && len(f.cost.procs) > 0 }, sayWithinBudget},
	{"late starts", func(f *nextFacts) bool { return f.serviceP99() > 0 && f.serviceP99() < lateShare*f.latencyP99() }, sayLate},
	{"slow operation", func(f *nextFacts) bool { return f.serviceP99() > 0 }, sayOperation},
	{"nothing to split", func(*nextFacts) bool { return true }, sayNothing},
}

// nextStep chooses the next step of r's FAIL row t, whose measuring step
// is st (nil when none); it returns the rule that chose it and its
// sentence.
func nextStep(r *report.Run, t report.Target, st *report.Step) (rule, sentence string) {
	f := newFacts(r, t, st)
	for _, rl := range nextRules {
		if rl.when(f) {
			return rl.name, rl.say(f)
		}
	}
	return "", "" // unreachable: the last rule always holds
}

func newFacts(r *report.Run, t report.Target, st *report.Step) *nextFacts {
	f := &nextFacts{run: r, row: t, st: st, cores: float64(r.Machine.Cores)}
	if strings.HasPrefix(t.What, "message loss") {
		f.lost, f.expected = lossOf(r, t)
	}
	if st == nil {
		return f
	}
	f.cost = costOf(r, t, st, f.cores)
	if b := st.Slowest; b != nil && latencyRow(t) {
		var sum float64
		for i, sg := range b.Stages {
			if sg.Aside || sg.N == 0 {
				continue
			}
			sum += sg.Median
			if f.top == nil || sg.Median > f.top.Median {
				f.top = &b.Stages[i]
			}
		}
		if f.top != nil && sum > 0 {
			f.share = f.top.Median / sum
		}
	}
	if w := st.Waits; w != nil {
		for i, p := range w.Procs {
			g := p.Go
			if g == nil {
				continue
			}
			if p.CPUPct > 0 && g.GCCPUPct >= gcHeavyPct && g.GCCPUPct >= gcHeavyShare*p.CPUPct && (f.gc == nil || g.GCCPUPct > f.gc.Go.GCCPUPct) {
				f.gc = &w.Procs[i]
			}
			if b := st.Slowest; b != nil && latencyRow(t) && g.SchedP99Ms >= schedLongMs && 2*g.SchedP99Ms >= b.From &&
				(f.sched == nil || g.SchedP99Ms > f.sched.Go.SchedP99Ms) {
				f.sched = &w.Procs[i]
			}
		}
	}
	return f
}

// lossOf is a loss row's lost and expected deliveries: its fault step's,
// or the sum over its scenario's steps.
func lossOf(r *report.Run, t report.Target) (lost, expected float64) {
	sc := scenarioOf(r, t.Scenario)
	if sc == nil {
		return 0, 0
	}
	for _, s := range sc.Steps {
		if strings.HasPrefix(t.What, "message loss during ") && s.Label != t.Step {
			continue
		}
		lost += s.Extra[lossExtra]
		expected += s.Extra["deliveries_expected"]
	}
	return lost, expected
}

func topIs(stage string) func(*nextFacts) bool {
	return func(f *nextFacts) bool { return f.top != nil && f.top.Name == stage }
}

func (f *nextFacts) waits() *report.Waits {
	if f.st == nil {
		return nil
	}
	return f.st.Waits
}

// coresFull says whether the phase's processes used nearly all the cores.
func (f *nextFacts) coresFull() bool {
	return f.cores > 0 && cpuTotal(f.waits()) >= coresFull*100*f.cores
}

func (f *nextFacts) latencyP99() float64 { return float64(f.st.Latency.P99) / 1e6 }

// serviceP99 is the step's p99 from each operation's actual start (ms),
// 0 when not measured.
func (f *nextFacts) serviceP99() float64 {
	if f.st == nil || f.st.Service == nil || f.st.Service.Count == 0 {
		return 0
	}
	return float64(f.st.Service.P99) / 1e6
}

// stageText is the dominant stage and its figures.
func (f *nextFacts) stageText() string {
	return fmt.Sprintf("%s is the largest stage of the slowest 1 %% (median %s ms, %.0f %% of the chain's medians)",
		f.top.Name, report.Ms(f.top.Median), 100*f.share)
}

// opCost is a row's CPU per operation, by process, against the most the
// target leaves each operation: the cores over the rate the target needs
// (every process on them together), or the target's own limit.
type opCost struct {
	unit string
	// need is the rate the target needs (0 when budget is the target's own
	// limit); offered the rate the bench offered (0 when not known).
	need, offered float64
	budget        float64 // µs
	procs         []procCost
}

type procCost struct {
	name string
	us   float64
}

func (c *opCost) total() float64 {
	var s float64
	for _, p := range c.procs {
		s += p.us
	}
	return s
}

func (c *opCost) largest() procCost {
	var top procCost
	for _, p := range c.procs {
		if p.us > top.us {
			top = p
		}
	}
	return top
}

// costOf reads the CPU per operation a row's step recorded, nil when it
// recorded none or the cores are unknown.
func costOf(r *report.Run, t report.Target, st *report.Step, cores float64) *opCost {
	x := st.Extra
	var c opCost
	switch {
	case t.Scenario == "rest_read" || t.Scenario == "rest_write":
		c = opCost{unit: "request", need: st.Rate, procs: []procCost{{"api", x[serverCPUExtra]}, {"load generator", x[loadCPUExtra]}}}
		if strings.Contains(t.Ours, "held") {
			c.need = map[string]float64{"rest_read": ReadHeldRate, "rest_write": WriteHeldRate}[t.Scenario]
			if missed, ramped := x["held"]; !ramped || missed != 0 {
				// No rate was missed: the ramp stopped below the target.
				c.offered, c.procs = highestRamp(r, t.Scenario), nil
			}
		}
	case t.Scenario == "density" && strings.Contains(t.Ours, "handshakes"):
		c = opCost{unit: "handshake", need: HandshakesPerSecond, offered: st.Rate, procs: []procCost{{"edge", x[edgeCPUPerHandshakeExtra]},
			{"load generator", x[loadCPUPerHandshakeExtra]}, {"redis", x["redis_cpu_us_per_handshake"]}}}
	case t.Scenario == "fanout" && strings.Contains(t.Ours, "frames/s"):
		c = opCost{unit: "frame", need: FanoutFrames, offered: x["frames_offered_per_s"], procs: []procCost{{"edge", x[cpuPerFrameExtra]}}}
		if fr := x[framesExtra]; fr > 0 && st.Waits != nil {
			// The other processes' CPU over the phase, per frame delivered.
			for _, p := range st.Waits.Procs {
				if !strings.HasPrefix(p.Name, "edge") {
					c.procs = append(c.procs, procCost{p.Name, p.CPUPct / 100 * 1e6 / fr})
				}
			}
		}
	case t.Scenario == "fanout" && strings.Contains(t.Ours, "µs"):
		c = opCost{unit: "frame", budget: CPUPerFrameUS, procs: []procCost{{"edge", x[cpuPerFrameExtra]}}}
	default:
		return nil
	}
	var kept []procCost
	for _, p := range c.procs {
		if p.us > 0 {
			kept = append(kept, p)
		}
	}
	if c.procs = kept; len(kept) == 0 && c.offered == 0 {
		return nil
	}
	if c.need > 0 {
		if cores <= 0 {
			return nil
		}
		c.budget = cores * 1e6 / c.need
	}
	return &c
}

// highestRamp is the highest rate a REST scenario's ramp tried.
func highestRamp(r *report.Run, scenario string) float64 {
	var top float64
	for _, s := range scenarioOf(r, scenario).Steps {
		if _, ramped := s.Extra["held"]; ramped {
			top = max(top, s.Rate)
		}
	}
	return top
}

// harness says whether a process is the bench's own (the load generator,
// its socket processes), whose cost is placement, not the product's.
func harness(name string) bool {
	return name == "load generator" || name == benchProc || strings.HasPrefix(name, "load ")
}

// busiest is the process of w with the most CPU among those keep
// accepts, nil when none is.
func busiest(w *report.Waits, keep func(name string) bool) *report.ProcWaits {
	var top *report.ProcWaits
	if w != nil {
		for i, p := range w.Procs {
			if keep(p.Name) && (top == nil || p.CPUPct > top.CPUPct) {
				top = &w.Procs[i]
			}
		}
	}
	return top
}

// proc is the busiest process of w whose name starts with prefix ("edge":
// the edge under load), nil when none.
func proc(w *report.Waits, prefix string) *report.ProcWaits {
	return busiest(w, func(n string) bool { return strings.HasPrefix(n, prefix) })
}

// busiestBut is the process of w with the most CPU other than name.
func busiestBut(w *report.Waits, name string) *report.ProcWaits {
	return busiest(w, func(n string) bool { return n != name })
}

func cpuTotal(w *report.Waits) float64 {
	var s float64
	if w != nil {
		for _, p := range w.Procs {
			s += p.CPUPct
		}
	}
	return s
}

// fsyncMs is the phase's average WAL fsync (0 when none was read).
func fsyncMs(w *report.Waits) float64 {
	if w == nil || w.Postgres == nil || w.Postgres.WALSyncs == 0 {
		return 0
	}
	return w.Postgres.WALSyncMs / w.Postgres.WALSyncs
}

// us prints microseconds.
func us(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// placement is the step for a harness process that competes with the
// product for the cores.
func placement(name string) string {
	return "give the " + name + " cores or a machine of its own (harness placement, not the product)"
}

func sayGC(f *nextFacts) string {
	p, g := f.gc, f.gc.Go
	s := fmt.Sprintf("%s spent %.0f %% of a core on GC over the phase (%.0f %% of its %.0f %% CPU, assists %.1f %%): ",
		p.Name, g.GCCPUPct, 100*g.GCCPUPct/p.CPUPct, p.CPUPct, g.AssistPct)
	if harness(p.Name) {
		return s + "give the harness's processes more heap room (GOGC) or cores of their own (harness placement, not the product)"
	}
	return s + "cut its allocations on this path (a heap profile's alloc_space at this load says where), or give it more heap room (GOGC, GOMEMLIMIT)"
}

func sayOffered(f *nextFacts) string {
	c := f.cost
	return fmt.Sprintf("the bench offered at most %.0f %ss/s, below the %.0f/s target, so the row cannot pass: offer at least the target rate (the scenario's size)",
		c.offered, c.unit, c.need)
}

func sayBudget(f *nextFacts) string {
	c := f.cost
	parts := make([]string, len(c.procs))
	for i, p := range c.procs {
		parts[i] = p.name + " " + us(p.us) + " µs"
	}
	limit := "the target allows"
	if c.need > 0 {
		limit = fmt.Sprintf("that %.0f/s leaves on %.0f cores (every process together)", c.need, f.cores)
	}
	s := fmt.Sprintf("CPU per %s: %s = %s µs, above the %s µs %s; ", c.unit, strings.Join(parts, " + "), us(c.total()), us(c.budget), limit)
	if len(c.procs) == 1 {
		s = fmt.Sprintf("the %s used %s µs of CPU per %s, above the %s µs %s; ", c.procs[0].name, us(c.total()), c.unit, us(c.budget), limit)
	}
	top := c.largest()
	if len(c.procs) > 1 {
		s += "the " + top.name + " takes the largest share: "
	}
	if harness(top.name) {
		return s + placement(top.name)
	}
	return s + fmt.Sprintf("cut the %s's CPU per %s (a CPU profile of it at this rate says where)", top.name, c.unit)
}

func saySched(f *nextFacts) string {
	p := f.sched
	s := fmt.Sprintf("%s's runnable goroutines waited up to %s ms at p99 for a thread (the slowest 1 %% start at %s ms) while the processes used %.0f %% of %.0f cores",
		p.Name, report.Ms(p.Go.SchedP99Ms), report.Ms(f.st.Slowest.From), cpuTotal(f.waits()), f.cores)
	o := busiestBut(f.waits(), p.Name)
	switch {
	case harness(p.Name):
		return s + ": " + placement(p.Name)
	case o == nil:
		return s + ": give it cores of its own"
	case harness(o.Name):
		return s + fmt.Sprintf(": the busiest other process is the %s (%.0f %% CPU); ", o.Name, o.CPUPct) + placement(o.Name)
	default:
		return s + fmt.Sprintf(": the busiest other process is %s (%.0f %% CPU); run %s and %s on separate cores, or cut %s's CPU", o.Name, o.CPUPct, p.Name, o.Name, o.Name)
	}
}

func sayGenerator(f *nextFacts) string {
	s := "the load generator started the slowest 1 % late: " + f.stageText()
	if v := f.st.Extra[loadCPUExtra]; v > 0 {
		s += fmt.Sprintf("; its CPU per request %s µs", us(v))
	}
	if p := proc(f.waits(), benchProc); p != nil {
		s += fmt.Sprintf("; %s at %.0f %% CPU", p.Name, p.CPUPct)
	}
	return s + "; give the generator a core or machine of its own, or cut its CPU per request (harness placement, not the product)"
}

// requestMs is the median time of the slowest 1 %'s requests themselves:
// the REST "request" stage, or a delivery's POST round trip (0 when not
// timed).
func (f *nextFacts) requestMs() float64 {
	if f.st == nil || f.st.Slowest == nil {
		return 0
	}
	for _, sg := range f.st.Slowest.Stages {
		if sg.N > 0 && (sg.Name == "request" || sg.Name == "POST round trip") {
			return sg.Median
		}
	}
	return 0
}

// workersTaken says whether the generator's late starts were its workers
// all being busy with slow requests rather than its own want of CPU: by
// Little's law, the rate times the slow requests' own time kept at least
// as many in flight as it has workers.
func (f *nextFacts) workersTaken() bool {
	w := f.st.Extra[workersExtra]
	return w > 0 && f.st.Rate*f.requestMs()/1000 >= w
}

func sayWorkersTaken(f *nextFacts) string {
	req := f.requestMs()
	s := fmt.Sprintf("the server, not the generator: %s, but the slowest requests themselves took a median %s ms, "+
		"so %.0f/s kept about %.0f in flight and all %.0f of the generator's workers were taken",
		f.stageText(), report.Ms(req), f.st.Rate, f.st.Rate*req/1000, f.st.Extra[workersExtra])
	busiest, what := busiest(f.waits(), func(n string) bool { return !harness(n) }), "the request path"
	if busiest != nil {
		s += fmt.Sprintf("; the busiest server process was %s at %.0f %% CPU", busiest.Name, busiest.CPUPct)
		what = busiest.Name + "'s work per request"
	}
	if w := f.waits(); w != nil && w.Postgres != nil && w.Postgres.Commits > 0 && busiest != nil && busiest.Name == "postgres" {
		s += fmt.Sprintf(" (%.0f µs of its CPU per commit over %.0f commits)", busiest.CPUPct/100*w.Seconds*1e6/w.Postgres.Commits, w.Postgres.Commits)
		what = "Postgres's work per send (the rows and statements each send commits)"
	}
	return s + "; cut " + what
}

func sayCommit(f *nextFacts) string {
	s := "commit wait: " + f.stageText()
	if w := f.waits(); w != nil && w.Postgres != nil && w.Postgres.WALSyncs > 0 {
		pg := w.Postgres
		s += fmt.Sprintf("; Postgres made %.0f WAL fsyncs averaging %s ms for %.0f commits over the phase", pg.WALSyncs, report.Ms(fsyncMs(w)), pg.Commits)
	}
	return s + "; group the commits of concurrent sends so that one WAL flush serves several (commit_delay and commit_siblings, or one transaction per batch of sends)"
}

func sayPublish(f *nextFacts) string {
	s := "the publish after the commit: " + f.stageText()
	if w := f.waits(); w != nil && w.Redis != nil {
		s += "; " + redisEvents(w.Redis)
	}
	return s + "; batch the stream appends of concurrent sends into one pipelined round trip instead of one round trip each"
}

func sayAppend(f *nextFacts) string {
	s := "the stream append: " + f.stageText()
	w := f.waits()
	if w != nil && w.Redis != nil && len(w.Redis.Events) > 0 {
		return s + "; " + redisEvents(w.Redis) + "; remove the stall that event names (a fork, an AOF write or fsync, a slow command) from the measured phase"
	}
	for _, name := range []string{"redis", benchProc} {
		if p := proc(w, name); p != nil {
			s += fmt.Sprintf("; %s at %.0f %% CPU", p.Name, p.CPUPct)
		}
	}
	return s + "; no slow command was recorded, so the XADD waited in the sender or in Redis's queue: " + placement("bench's sender") + ", which takes it out of the question"
}

func redisEvents(r *report.RedisWaits) string {
	if len(r.Events) == 0 {
		return "Redis recorded no latency event ≥ 1 ms"
	}
	ev := make([]string, len(r.Events))
	for i, e := range r.Events {
		ev[i] = fmt.Sprintf("%s max %s ms", e.Name, report.Ms(e.MaxMs))
	}
	return "Redis latency events " + strings.Join(ev, ", ")
}

func sayCoresFull(f *nextFacts) string {
	w := f.waits()
	s := fmt.Sprintf("the cores were full under the edge: %s; the processes used %.0f %% of %.0f cores", f.stageText(), cpuTotal(w), f.cores)
	edge := proc(w, "edge")
	if edge == nil {
		edge = &report.ProcWaits{Name: "the edge"} // its CPU was not read
	}
	o := busiestBut(w, edge.Name)
	if o == nil {
		return s + "; cut the edge's CPU per delivery"
	}
	s += fmt.Sprintf(", the busiest besides %s (%.0f %%) being %s (%.0f %%)", edge.Name, edge.CPUPct, o.Name, o.CPUPct)
	if harness(o.Name) {
		return s + "; " + placement(o.Name)
	}
	return s + "; run " + o.Name + " on cores the edge does not share, or cut its CPU"
}

func sayEdge(f *nextFacts) string {
	s := "the edge's read and fan-out: " + f.stageText()
	if e := proc(f.waits(), "edge"); e != nil {
		s += fmt.Sprintf("; %s at %.0f %% CPU", e.Name, e.CPUPct)
		if e.Go != nil {
			s += fmt.Sprintf(", runnable waits p99 ≤ %s ms", report.Ms(e.Go.SchedP99Ms))
		}
		s += fmt.Sprintf("; the processes used %.0f %% of %.0f cores", cpuTotal(f.waits()), f.cores)
	}
	s += "; cut the edge's time from its XREAD to its socket writes (its XADD → read and → frames written lines above say which half"
	if f.row.Profile != "" {
		s += ", its CPU profile where"
	}
	return s + ")"
}

func sayRequest(f *nextFacts) string {
	s := "the request itself: " + f.stageText()
	if c := f.cost; c != nil {
		s += fmt.Sprintf("; CPU per request (api %s µs, load generator %s µs) fits the %s µs that %.0f/s leaves on %.0f cores",
			us(f.st.Extra[serverCPUExtra]), us(f.st.Extra[loadCPUExtra]), us(c.budget), c.need, f.cores)
	}
	if a := proc(f.waits(), "api"); a != nil && a.Go != nil {
		s += fmt.Sprintf("; api at %.0f %% CPU, runnable waits p99 ≤ %s ms", a.CPUPct, report.Ms(a.Go.SchedP99Ms))
	}
	return s + "; so the slow requests queued rather than worked: set the api's handler time above against this stage to tell a wait inside the handler from one before it, and cut that wait"
}

// lossLookup is the next step of a row that lost deliveries.
const lossLookup = "look each lost event up in its shard stream (XRANGE) and the messages table, which tells an append that never happened from a delivery the edge or the client dropped"

func sayLoss(f *nextFacts) string {
	if f.expected == 0 {
		return "no delivery was expected, so nothing was checked: the phase sent nothing; its first error (scenario table) says why"
	}
	return fmt.Sprintf("%.0f of %.0f deliveries lost: "+lossLookup, f.lost, f.expected)
}

func saySockets(f *nextFacts) string {
	x := f.st.Extra
	held, want := x[socketsExtra], x["sockets_wanted"]
	switch {
	case held < want:
		return fmt.Sprintf("%.0f of %.0f sockets held: remove what refused the rest (the step's first error in the scenario table; the open-files limit is %d)",
			held, want, f.run.Machine.OpenFiles)
	case f.row.Scenario == "density" && want < DensitySockets:
		return fmt.Sprintf("the bench asked for %.0f sockets, below the %.0f target, so the row cannot pass: ask for at least the target (the scenario's size)", want, DensitySockets)
	case x[lossExtra] > 0:
		return fmt.Sprintf("%.0f deliveries lost across the fleet: "+lossLookup, x[lossExtra])
	}
	return fmt.Sprintf("%.0f sockets held, no more than one process may hold (%.0f): ask the fleet for more sockets than one process's limit", held, x["per_process_limit"])
}

func sayFailed(f *nextFacts) string {
	return fmt.Sprintf("%d of %d operations failed: remove that failure first (the step's first error is in the scenario table)", f.st.Failed, f.st.Due)
}

func sayMemory(f *nextFacts) string {
	s := fmt.Sprintf("%.0f bytes of resident memory per idle socket against %.0f", f.st.Extra[bytesPerSockExtra], BytesPerSocket)
	if f.row.Profile != "" {
		return s + ": shrink the largest per-socket allocation the edge's heap profile (above) shows"
	}
	return s + ": take the edge's heap profile with the sockets idle and shrink its largest per-socket allocation"
}

// slowestQuery is the index of the search step's query with the largest
// median alone (q<i>_median_ms), -1 when none was measured.
func slowestQuery(st *report.Step) int {
	best, at := -1, 0.0
	if st != nil {
		for i := 0; ; i++ {
			v, ok := st.Extra[fmt.Sprintf("q%d_median_ms", i)]
			if !ok {
				break
			}
			if best < 0 || v > at {
				best, at = i, v
			}
		}
	}
	return best
}

func saySearch(f *nextFacts) string {
	i := slowestQuery(f.st)
	return fmt.Sprintf("query q%d of the mix takes a median %s ms alone, the slowest of the mix (the queries are listed under reported figures): read its plan (EXPLAIN ANALYZE) and cut what it reads per match",
		i, report.Ms(f.st.Extra[fmt.Sprintf("q%d_median_ms", i)]))
}

func sayWithinBudget(f *nextFacts) string {
	c := f.cost
	parts := make([]string, len(c.procs))
	for i, p := range c.procs {
		parts[i] = p.name + " " + us(p.us) + " µs"
	}
	return fmt.Sprintf("CPU per %s (%s) fits the %s µs that %.0f/s leaves on %.0f cores, so the rate was lost to waiting, not to CPU: take an execution trace (runtime/trace) of the %s over the phase to find the wait each %s queues behind",
		c.unit, strings.Join(parts, ", "), us(c.budget), c.need, f.cores, c.procs[0].name, c.unit)
}

func sayLate(f *nextFacts) string {
	return fmt.Sprintf("no breakdown measured; latency p99 %s ms against service p99 %s ms (from each operation's actual start): the operations waited to start, so "+
		"give the load generator a core of its own (harness placement, not the product)", report.Ms(f.latencyP99()), report.Ms(f.serviceP99()))
}

func sayOperation(f *nextFacts) string {
	s := fmt.Sprintf("no breakdown measured; service p99 %s ms of latency p99 %s ms is time after each operation started, not a late start: ",
		report.Ms(f.serviceP99()), report.Ms(f.latencyP99()))
	if f.row.Profile != "" {
		return s + "cut the top entry of the profile above"
	}
	return s + "CPU-profile the operation at this rate and cut its top entry"
}

func sayNothing(f *nextFacts) string {
	switch {
	case f.st != nil && f.st.FirstError != "":
		return "no breakdown measured; the step's first error (scenario table) is what to remove first"
	case f.row.Where != "":
		return "no breakdown measured; cut the top entry of the profile above"
	}
	return "no breakdown measured for this row: read the stack's waits around its phase (as the delivery and REST phases do) before changing anything"
}
