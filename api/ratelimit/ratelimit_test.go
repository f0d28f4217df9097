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
