// Package harness runs a whole bench: it starts the stack, seeds it, runs
// every scenario in order, judges the targets, stops the stack and writes
// the report. `make bench` (full size, report into bench/) and the smoke
// run in `make test` (tiny loads, report into a scratch folder) are the
// same code with a different scenario.Size.
package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/bench/scenario"
	"github.com/chatterly/chatterly/bench/seed"
	"github.com/chatterly/chatterly/bench/stack"
	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Options say what to run and where.
type Options struct {
	// Checkout is the repository root.
	Checkout string
	Size     scenario.Size
	// DataDir is the stack's data folder, emptied at start.
	DataDir string
	// OutDir receives REPORT.md and results/.
	OutDir string
	// Edges is how many edge processes the stack starts (the fleet
	// scenario uses them all, the others the first).
	Edges int
	Logf  func(format string, args ...any)
	// Scenarios names the scenarios to run, in Steps' order (all when
	// empty).
	Scenarios []string
}

// Step is one scenario in the run order. Expect is how long its full-size
// run takes on a calm 2-core machine (printed beside the progress, so a
// reader of a slow run sees how far off it is; a loaded machine takes
// longer, which the report's load averages then show).
type Step struct {
	Name, Title string
	Run         scenario.Func
	Expect      time.Duration
}

// Steps is the run order: in process first, then REST, then WebSockets,
// and the faults last because they restart pieces of the stack.
var Steps = []Step{
	{"auth", "Auth check (JWT verify + denylist), in process", scenario.Auth, 15 * time.Second},
	{"rest_write", "REST write: POST /conversations/:id/messages", scenario.RESTWrite, 60 * time.Second},
	{"rest_read", "REST cached read: GET /conversations and GET /conversations/:id/messages", scenario.RESTRead, 70 * time.Second},
	{"density", "Density: sockets one edge process holds, memory per socket, handshakes/s", scenario.Density, 45 * time.Second},
	{"delivery", "WebSocket delivery to every subscriber", scenario.Delivery, 150 * time.Second},
	{"fleet", "Fleet: a Redis Cluster, a Postgres replica and PgBouncer, several api and edge nodes, with faults", scenario.Fleet, 150 * time.Second},
	{"faults", "Faults during delivery: restarts with recovering clients", scenario.Faults, 90 * time.Second},
	{"search", "Message search over 10 M messages (seeded once, then cached), and its cost to REST writes", scenario.Search, 150 * time.Second},
}

// expected is the calm-machine time of Steps[i:] at size (smoke sizes
// have no expectation: they take seconds).
func expected(steps []Step, size scenario.Size) time.Duration {
	var d time.Duration
	for _, s := range steps {
		d += s.Expect
	}
	if size.Name != scenario.Full.Name {
		return 0
	}
	return d
}

// Run runs the bench and writes its report; it returns the run and the
// files written. The stack is stopped whatever happens.
func Run(ctx context.Context, o Options) (run *report.Run, files []string, err error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	run = report.NewRun(o.Size.Name)
	run.Machine = report.Describe(o.Checkout)
	steps := Steps
	if len(o.Scenarios) > 0 {
		steps = nil
		for _, s := range Steps {
			if slices.Contains(o.Scenarios, s.Name) {
				steps = append(steps, s)
			}
		}
		if len(steps) != len(o.Scenarios) {
			return run, nil, fmt.Errorf("harness: scenarios %v: each must be one of Steps' names, once", o.Scenarios)
		}
	}
	st, err := stack.Start(ctx, stack.Config{Checkout: o.Checkout, Dir: o.DataDir, Edges: o.Edges, Env: RaisedLimits, Logf: logf})
	if err != nil {
		return run, nil, err
	}
	defer func() {
		if serr := st.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("harness: stop: %w", serr))
		}
	}()
	env, closeEnv, err := open(ctx, st, o, run, logf)
	if err != nil {
		return run, nil, err
	}
	defer closeEnv()
	start := time.Now()
	for i, s := range steps {
		sc := run.Scenario(s.Name, s.Title)
		t0 := time.Now()
		logf("scenario %d of %d: %s (run elapsed %s%s)", i+1, len(steps), s.Name,
			t0.Sub(start).Round(time.Second), expectation(expected(steps[i:i+1], o.Size), expected(steps[i:], o.Size)))
		if err := s.Run(ctx, env); err != nil {
			sc.Error = err.Error()
			if len(sc.Steps) == 0 && sc.NotMeasured == "" {
				sc.NotMeasured = "the scenario failed: " + err.Error()
			}
		}
		run.LoadSamples = append(run.LoadSamples, stats.LoadAverage())
		logf("scenario %s done in %s", s.Name, time.Since(t0).Round(time.Millisecond))
		if ctx.Err() != nil {
			return run, nil, ctx.Err()
		}
	}
	run.Targets = scenario.Targets(run)
	scenario.Explain(run)
	run.Figures = append(scenario.Figures(run), run.Figures...)
	run.Estimate = scenario.Estimate(run)
	run.Notes = notes(run, st, o.Size)
	run.Finished = time.Now().UTC()
	files, err = report.Write(o.OutDir, run)
	return run, files, err
}

func expectation(this, rest time.Duration) string {
	if this == 0 {
		return ""
	}
	return fmt.Sprintf("; expected on a calm machine: %s for this one, %s for the rest", this, rest)
}

// open connects the bench's own clients and seeds the world.
func open(ctx context.Context, st *stack.Stack, o Options, run *report.Run, logf func(string, ...any)) (*scenario.Env, func(), error) {
	opt, err := rueidis.ParseURL(st.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	rdb, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, nil, err
	}
	db, err := pgxpool.New(ctx, st.DatabaseURL)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	closeAll := func() { db.Close(); rdb.Close() }
	keys := rkey.New(stack.KeyPrefix, stack.Shards)
	t0 := time.Now()
	world, err := seed.Seed(ctx, seed.Deps{DB: db, Redis: rdb, Keys: keys, KeyDir: st.KeyDir},
		seed.Plan{Users: o.Size.Users, Groups: o.Size.Groups})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	logf("seeded %d users, %d conversations in %s", len(world.Users), len(world.Conversations), time.Since(t0).Round(time.Millisecond))
	return &scenario.Env{Stack: st, World: world, Size: o.Size, Run: run, Redis: rdb, DB: db, Keys: keys,
		ResultsDir: filepath.Join(o.OutDir, "results"), Logf: logf,
		Open: func(ctx context.Context, st *stack.Stack) (*scenario.Env, func(), error) {
			return open(ctx, st, o, run, logf)
		},
	}, closeAll, nil
}

// RaisedLimits are the limits the bench lifts, through the variables every
// operator has: one loopback address and a few users make more requests
// than any real client may.
var RaisedLimits = map[string]string{
	"LOGIN_FREE_FAILURES":    "1000000",
	"RATE_LOGIN_PER_ADDR":    "1000000",
	"RATE_REGISTER_PER_ADDR": "1000000",
	"RATE_CONVERSATIONS":     "1000000",
	"RATE_MESSAGES":          "1000000",
	"RATE_REACTIONS":         "1000000",
	"RATE_USER_SEARCH":       "1000000",
	"RATE_MESSAGE_SEARCH":    "1000000",
	// Every bench socket comes from 127.0.0.1.
	"EDGE_HANDSHAKE_RATE":  "1000000",
	"EDGE_HANDSHAKE_BURST": "1000000",
	// and a few users hold thousands of sockets each.
	"EDGE_MAX_SOCKETS_PER_ADDR": "1000000",
	"EDGE_MAX_SOCKETS_PER_USER": "1000000",
	// The edge keeps min(500, limit/10) descriptors for itself by default;
	// it needs a few dozen, so the bench lets sockets have the rest.
	"EDGE_FD_HEADROOM": "100",
	// A graceful edge stop spreads its reconnect requests over this window
	// (5 s by default); the bench stops edges with no clients left.
	"EDGE_SHUTDOWN_WINDOW": "500ms",
}

func loads(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(parts, ", ")
}

func notes(run *report.Run, st *stack.Stack, size scenario.Size) []string {
	var limits []string
	for k, v := range RaisedLimits {
		limits = append(limits, k+"="+v)
	}
	sort.Strings(limits)
	n := []string{
		"Users, sessions, conversations and memberships were seeded directly into Postgres (SQL COPY, member sets rebuilt by api/membership) and their access tokens signed with the stack's dev signing key (shared/token), not registered through argon2.",
		"Rate limits were raised through their environment variables: " + strings.Join(limits, ", ") + ".",
		fmt.Sprintf("Everything ran on this one machine: Postgres, Redis, the api, %d edge process(es), the worker and the load generators share its %d cores. The machine is shared with other work: the one-minute load average (this run's own processes included) was %.2f when the run started and %s after each scenario, and every figure includes that contention.",
			len(st.Edges), run.Machine.Cores, run.Machine.Load1, loads(run.LoadSamples)),
		"Release binaries (go build -trimpath -ldflags=-s -w); Postgres and Redis as `make run` configures them (deploy/local/lib.sh), Redis with an append-only file fsynced every second.",
		"How latency is counted. REST and auth: from each request's due time on a fixed-rate schedule (open model). Delivery from api acceptance: from the due time of the POST that created the message to its arrival at each subscribed socket (the POST's own time is inside it). Delivery from stream entry: the bench appends an ephemeral event (a typing event from a user no socket belongs to, carrying the bench's tag) straight to the conversation's shard stream and counts from the moment the XADD is sent. One event to every user: per event, the latency of its last socket.",
		fmt.Sprintf("Sockets are held by child processes of the harness (`chatterly-bench sockets`, loadtest/sockets, on loadtest/cable's wire code), at most %d sockets each, so no process passes the open-files limit.", size.PerChild) + " They behave as the protocol tells clients: drop a seq already applied, and, in the fault scenario, reconnect, re-subscribe and fetch `GET /conversations/:id/events?after_seq=N` after a gap or a reconnect. Loss is what a subscriber never held after that recovery.",
		"Edge CPU per frame is the edge process's user+system time (/proc/<pid>/stat) over the fan-out phase divided by the event frames delivered; the keepalive pings (one per socket every 3 s) are in the CPU but not in the frames, so the figure errs high. Memory per socket is the edge's VmRSS with the sockets idle minus the VmRSS of the same, freshly started process before any socket, divided by the sockets held.",
	}
	for name, why := range st.Missing {
		n = append(n, fmt.Sprintf("Not started: %s (%s).", name, why))
	}
	return n
}
