package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/stretchr/testify/require"
)

func TestAllowCountsPerSubjectAndResets(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	l := New(rdb, keys)
	ctx := context.Background()
	r := Rule{Name: "login", Max: 3, Window: time.Minute}
	for range 3 {
		require.NoError(t, l.Allow(ctx, r, "alice"))
	}
	err := l.Allow(ctx, r, "alice")
	fe, ok := fault.As(err)
	require.True(t, ok)
	require.Equal(t, fault.RateLimited, fe.Code)
	require.Greater(t, fe.RetryAfter, 50*time.Second)
	require.NoError(t, l.Allow(ctx, r, "bob"), "another subject has its own count")
	require.NoError(t, l.Reset(ctx, r, "alice"))
	require.NoError(t, l.Allow(ctx, r, "alice"))
}

func TestWindowExpires(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	l := New(rdb, keys)
	ctx := context.Background()
	// A window long enough that the second hit surely lands in it even on
	// a loaded machine, short enough to wait out.
	r := Rule{Name: "w", Max: 1, Window: 1500 * time.Millisecond}
	require.NoError(t, l.Allow(ctx, r, "x"))
	require.Error(t, l.Allow(ctx, r, "x"))
	require.Eventually(t, func() bool { return l.Allow(ctx, r, "x") == nil }, 5*time.Second, 50*time.Millisecond)
}

// A backoff holds a subject off once it has failed Free times, doubling
// the wait with every failure or attempt while held, up to Max; the hold
// ends when its time has passed (on the caller's clock), and Forget clears
// the count.
func TestBackoffDoublesUpToMax(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	l := New(rdb, keys)
	ctx := context.Background()
	b := Backoff{Name: "b", Free: 2, First: time.Second, Max: 4 * time.Second, Forget: time.Minute}
	now := time.Now()
	wait := func(err error) time.Duration {
		t.Helper()
		fe, ok := fault.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, fault.RateLimited, fe.Code)
		return fe.RetryAfter
	}
	require.NoError(t, l.Hold(ctx, b, "x", now))
	require.NoError(t, l.Fail(ctx, b, "x", now))
	require.NoError(t, l.Hold(ctx, b, "x", now), "one failure is free")
	require.NoError(t, l.Fail(ctx, b, "x", now), "the failure itself is answered; the hold starts")
	require.NoError(t, l.Hold(ctx, b, "y", now), "another subject is not held")
	require.Equal(t, 2*time.Second, wait(l.Hold(ctx, b, "x", now)))
	require.Equal(t, 4*time.Second, wait(l.Hold(ctx, b, "x", now)))
	require.Equal(t, 4*time.Second, wait(l.Hold(ctx, b, "x", now)), "at most Max")
	require.NoError(t, l.Hold(ctx, b, "x", now.Add(5*time.Second)), "the hold has passed")
	require.NoError(t, l.Fail(ctx, b, "x", now.Add(5*time.Second)))
	require.Equal(t, 4*time.Second, wait(l.Hold(ctx, b, "x", now.Add(5*time.Second))), "the count was kept")
	require.NoError(t, l.Forget(ctx, b, "x"))
	require.NoError(t, l.Fail(ctx, b, "x", now))
	require.NoError(t, l.Hold(ctx, b, "x", now))
}
