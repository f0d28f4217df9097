// Package load is the open-model load driver of the bench and of
// loadtest/sockets' connects: operations are started at a fixed arrival
// rate whatever the system under test does, and each operation's latency
// is measured from the moment it was meant to start, not from when a free
// worker got round to it.
//
// Why it matters (coordinated omission): a closed-loop driver that waits
// for each answer before sending the next stops sending while the server
// stalls, so the stall is recorded once instead of for every request that a
// real population of users would have sent meanwhile. Here the schedule is
// fixed in advance (operation i is due at start + i/rate); a late start —
// because every worker was busy or the process was descheduled — counts
// against the latency, as it would for the user who sent it.
package load

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/loadtest/hist"
)

// Plan is one fixed-rate run.
type Plan struct {
	// Rate is operations per second.
	Rate float64
	// Duration is how long operations are scheduled for; Rate·Duration
	// operations are due in all.
	Duration time.Duration
	// Ops, when set, is exactly how many operations are due (one per
	// socket to open, say); Duration is then Ops/Rate.
	Ops int64
	// Workers bounds the operations in flight. It must exceed Rate times
	// the latency being measured, or the driver itself becomes the queue
	// (that queueing is still counted in the latency, never hidden).
	Workers int
	// Grace is how late past the schedule's end an operation may still be
	// started; one due earlier but not started by then is counted Unsent.
	// Zero means one second.
	Grace time.Duration
	// Spin makes workers busy-wait the last stretch before each due time
	// instead of sleeping through it. For in-process operations of a few
	// microseconds: a timer wakes tens of microseconds late, and that
	// lateness (the driver's, not the operation's) would be what the
	// latency showed. It costs a core per worker while it runs.
	Spin bool
}

// histShards is how many latency histogram pairs a run's workers share.
const histShards = 8

// spinWindow is how close to a due time a spinning worker stops sleeping.
const spinWindow = 2 * time.Millisecond

// Call is one scheduled operation: its index I (0..due-1), the moment it
// was due (operations that carry a send time, such as bench-tagged
// messages, carry this one), and the calling worker (0..Workers-1), for
// operations that keep per-worker state.
type Call struct {
	Worker int
	I      int64
	Due    time.Time
}

// Op runs one operation and reports whether it succeeded. It must be safe
// for concurrent use.
type Op func(ctx context.Context, c Call) error

// Result is what a run measured.
type Result struct {
	Plan Plan
	// Due is how many operations the schedule held; Done finished without
	// error, Failed returned one, Unsent were never started (the driver or
	// the system fell too far behind).
	Due, Done, Failed, Unsent int64
	// FirstError is the first error an operation returned.
	FirstError string
	// Latency is from each operation's due time to its end: the figure
	// judged against targets. Service is from its actual start to its end.
	Latency, Service *hist.Histogram
	// MaxStartLag is the worst delay between an operation's due time and
	// its start.
	MaxStartLag time.Duration
	// Elapsed is from the first due time to the last end.
	Elapsed time.Duration
}

// Throughput is the rate of successful operations over the run.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Done) / r.Elapsed.Seconds()
}

// Clean reports whether every due operation ran and succeeded.
func (r Result) Clean() bool { return r.Failed == 0 && r.Unsent == 0 && r.Done == r.Due }

// String renders the run in one line for logs.
func (r Result) String() string {
	s := r.Latency.Summarize()
	return fmt.Sprintf("rate=%.0f/s due=%d done=%d failed=%d unsent=%d thr=%.0f/s p50=%.3fms p99=%.3fms p999=%.3fms max=%.3fms lag=%s",
		r.Plan.Rate, r.Due, r.Done, r.Failed, r.Unsent, r.Throughput(),
		hist.Millis(s.P50), hist.Millis(s.P99), hist.Millis(s.P999), hist.Millis(s.Max), r.MaxStartLag)
}

// Run executes plan, calling op for each scheduled operation, and returns
// when every started operation has ended. Cancelling ctx stops scheduling;
// operations not started are counted Unsent.
func Run(ctx context.Context, plan Plan, op Op) Result {
	if plan.Workers < 1 {
		plan.Workers = 1
	}
	if plan.Grace <= 0 {
		plan.Grace = time.Second
	}
	if plan.Ops > 0 {
		plan.Duration = time.Duration(float64(plan.Ops) / plan.Rate * float64(time.Second))
	}
	due := int64(plan.Rate * plan.Duration.Seconds())
	if plan.Ops > 0 {
		due = plan.Ops
	}
	interval := float64(time.Second) / plan.Rate
	// A short lead lets every worker reach its first wait before the
	// schedule starts, so start-up is not counted as lateness.
	start := time.Now().Add(5 * time.Millisecond)
	deadline := start.Add(plan.Duration + plan.Grace)

	var next atomic.Int64
	type acc struct {
		lat, svc     *hist.Histogram
		done, failed int64
		maxLag       time.Duration
		firstErr     string
		firstErrAt   time.Time
		lastEnd      time.Time
	}
	// Workers share a few histograms (recording is lock-free): one pair
	// per worker was 86 KB each, hundreds of megabytes to clear and merge
	// for the thousands of workers of a high-rate step.
	shards := make([]*acc, min(plan.Workers, histShards))
	for i := range shards {
		shards[i] = &acc{lat: hist.New(), svc: hist.New()}
	}
	accs := make([]*acc, plan.Workers)
	var wg sync.WaitGroup
	for w := range accs {
		a := &acc{lat: shards[w%len(shards)].lat, svc: shards[w%len(shards)].svc}
		accs[w] = a
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// One timer per worker, reset for each due time: a timer per
			// operation was an allocation and a timer-heap insertion more.
			t := time.NewTimer(time.Hour)
			t.Stop()
			for {
				i := next.Add(1) - 1
				if i >= due {
					return
				}
				at := start.Add(time.Duration(float64(i) * interval))
				wait(ctx, t, at, plan.Spin)
				began := time.Now()
				if ctx.Err() != nil || began.After(deadline) {
					// Stop every worker: what was not run is Unsent.
					next.Store(due)
					return
				}
				err := op(ctx, Call{Worker: w, I: i, Due: at})
				end := time.Now()
				a.lastEnd = end
				a.lat.Record(end.Sub(at))
				a.svc.Record(end.Sub(began))
				a.maxLag = max(a.maxLag, began.Sub(at))
				if err != nil {
					a.failed++
					if a.firstErr == "" {
						a.firstErr, a.firstErrAt = err.Error(), end
					}
					continue
				}
				a.done++
			}
		}(w)
	}
	wg.Wait()

	r := Result{Plan: plan, Due: due, Latency: hist.New(), Service: hist.New()}
	for _, s := range shards {
		r.Latency.Merge(s.lat)
		r.Service.Merge(s.svc)
	}
	var last, firstErrAt time.Time
	for _, a := range accs {
		r.Done += a.done
		r.Failed += a.failed
		r.MaxStartLag = max(r.MaxStartLag, a.maxLag)
		if a.lastEnd.After(last) {
			last = a.lastEnd
		}
		if a.firstErr != "" && (r.FirstError == "" || a.firstErrAt.Before(firstErrAt)) {
			r.FirstError, firstErrAt = a.firstErr, a.firstErrAt
		}
	}
	r.Unsent = due - r.Done - r.Failed
	if !last.IsZero() {
		r.Elapsed = last.Sub(start)
	}
	return r
}

// wait returns at due time at (or when ctx ends): asleep on t, a stopped
// timer of the caller's, or with spin, asleep until spinWindow before it
// and busy for the rest. It leaves t stopped.
func wait(ctx context.Context, t *time.Timer, at time.Time, spin bool) {
	d := time.Until(at)
	if spin {
		d -= spinWindow
	}
	if d > 0 {
		// Since Go 1.23 a stopped or fired timer's channel holds no stale
		// tick, so Reset needs no draining.
		t.Reset(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	for spin && time.Now().Before(at) && ctx.Err() == nil {
		runtime.Gosched()
	}
}
