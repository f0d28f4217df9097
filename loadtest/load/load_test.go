package load

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEveryDueOperationRunsOnce checks the schedule: Rate·Duration
// operations, each index exactly once, none unsent.
func TestEveryDueOperationRunsOnce(t *testing.T) {
	t.Parallel()
	seen := make([]atomic.Int32, 200)
	r := Run(context.Background(), Plan{Rate: 1000, Duration: 200 * time.Millisecond, Workers: 8},
		func(_ context.Context, c Call) error { seen[c.I].Add(1); return nil })
	require.Equal(t, int64(200), r.Due)
	require.Equal(t, int64(200), r.Done)
	require.True(t, r.Clean())
	for i := range seen {
		require.Equal(t, int32(1), seen[i].Load(), "op %d", i)
	}
	// 200 ops at 1,000/s cannot finish before the last is due.
	require.GreaterOrEqual(t, r.Elapsed, 199*time.Millisecond)
	require.Equal(t, uint64(200), r.Latency.Count())
}

// TestStallIsChargedToEveryWaitingOperation is the coordinated-omission
// check: one worker and a 100 ms stall in the first operation. Ops due
// during the stall start late, and their latency (from due time) must show
// it, though each one's service time is short.
func TestStallIsChargedToEveryWaitingOperation(t *testing.T) {
	t.Parallel()
	r := Run(context.Background(), Plan{Rate: 500, Duration: 200 * time.Millisecond, Workers: 1},
		func(_ context.Context, c Call) error {
			if c.I == 0 {
				time.Sleep(100 * time.Millisecond) // the stall under test, not a wait
			}
			return nil
		})
	require.True(t, r.Clean(), r.String())
	// Ops 1..49 were due during the stall and waited 98, 96, … ms: a
	// quarter of all ops waited over 50 ms. A closed-loop driver would
	// have recorded the stall once and shown p80 near zero.
	require.Greater(t, r.Latency.Quantile(0.8), 20*time.Millisecond, r.String())
	require.Less(t, r.Service.Quantile(0.9), 20*time.Millisecond, r.String())
	require.GreaterOrEqual(t, r.MaxStartLag, 90*time.Millisecond)
}

func TestFailuresAndFirstError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := Run(context.Background(), Plan{Rate: 2000, Duration: 50 * time.Millisecond, Workers: 4},
		func(_ context.Context, c Call) error {
			if c.I%10 == 0 {
				return boom
			}
			return nil
		})
	require.Equal(t, int64(100), r.Due)
	require.Equal(t, int64(10), r.Failed)
	require.Equal(t, int64(90), r.Done)
	require.Equal(t, "boom", r.FirstError)
	require.False(t, r.Clean())
}

// TestOverloadLeavesOpsUnsent: a system slower than the rate, with a short
// grace, leaves part of the schedule unsent, and says so.
func TestOverloadLeavesOpsUnsent(t *testing.T) {
	t.Parallel()
	r := Run(context.Background(), Plan{Rate: 1000, Duration: 100 * time.Millisecond, Workers: 1, Grace: 10 * time.Millisecond},
		func(context.Context, Call) error {
			time.Sleep(5 * time.Millisecond) // service time 5x the interval
			return nil
		})
	require.Equal(t, int64(100), r.Due)
	require.Positive(t, r.Unsent)
	require.Equal(t, r.Due, r.Done+r.Unsent)
	require.False(t, r.Clean())
}

func TestCancelStopsScheduling(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	r := Run(ctx, Plan{Rate: 100, Duration: 10 * time.Second, Workers: 2},
		func(context.Context, Call) error {
			if n.Add(1) == 5 {
				cancel()
			}
			return nil
		})
	require.Less(t, r.Done, int64(20))
	require.Equal(t, r.Due, r.Done+r.Unsent)
}

// TestNoOperationStartsEarly: sleeping or spinning, an operation never
// starts before it is due (starting early would hide lateness), and Due is
// the schedule's start + i/rate.
func TestNoOperationStartsEarly(t *testing.T) {
	t.Parallel()
	for _, spin := range []bool{false, true} {
		var early atomic.Int64
		var first time.Time
		var firstOnce sync.Once
		r := Run(context.Background(), Plan{Rate: 2000, Duration: 50 * time.Millisecond, Workers: 2, Spin: spin},
			func(_ context.Context, c Call) error {
				if time.Now().Before(c.Due) {
					early.Add(1)
				}
				if c.I == 0 {
					firstOnce.Do(func() { first = c.Due })
				}
				return nil
			})
		require.True(t, r.Clean())
		require.Zero(t, early.Load(), "spin=%v", spin)
		require.False(t, first.IsZero())
	}
}

func TestOpsFixesTheCount(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	r := Run(context.Background(), Plan{Rate: 3000, Ops: 7, Workers: 2},
		func(context.Context, Call) error { n.Add(1); return nil })
	require.Equal(t, int64(7), r.Due)
	require.Equal(t, int64(7), n.Load())
}
