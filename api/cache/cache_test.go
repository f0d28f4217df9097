package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/stretchr/testify/require"
)

func setup(t *testing.T) *Cache {
	rdb, keys := redistest.Client(t)
	return New(rdb, keys, Config{TTL: time.Minute, LocalTTL: time.Minute, Lease: 2 * time.Second}, nil)
}

// source is a loader counting its calls and answering with its current value.
type source struct {
	calls atomic.Int32
	value atomic.Value
}

func (s *source) load(context.Context) ([]byte, error) {
	s.calls.Add(1)
	return []byte(s.value.Load().(string)), nil
}

func TestReadThroughAndInvalidate(t *testing.T) {
	t.Parallel()
	c := setup(t)
	ctx := context.Background()
	r := Ref{Kind: "k", ID: "1"}
	var src source
	src.value.Store(`{"v":1}`)
	for range 3 {
		v, err := c.Get(ctx, r, src.load)
		require.NoError(t, err)
		require.JSONEq(t, `{"v":1}`, v)
	}
	require.EqualValues(t, 1, src.calls.Load(), "one load, then hits")

	src.value.Store(`{"v":2}`)
	require.NoError(t, c.Invalidate(ctx, r))
	v, err := c.Get(ctx, r, src.load)
	require.NoError(t, err)
	require.JSONEq(t, `{"v":2}`, v, "the very next read sees the write")
	require.EqualValues(t, 2, src.calls.Load())
}

func TestValueLoadedBeforeAWriteIsNotStoredAfterIt(t *testing.T) {
	t.Parallel()
	c := setup(t)
	ctx := context.Background()
	r := Ref{Kind: "k", ID: "race"}
	// The load reads the old value, then a writer commits and invalidates
	// before the load's result reaches Redis.
	v, err := c.Get(ctx, r, func(ctx context.Context) ([]byte, error) {
		require.NoError(t, c.Invalidate(ctx, r))
		return []byte(`"old"`), nil
	})
	require.NoError(t, err)
	require.Equal(t, `"old"`, v, "the racing reader itself gets what it read")
	v, err = c.Get(ctx, r, func(context.Context) ([]byte, error) { return []byte(`"new"`), nil })
	require.NoError(t, err)
	require.Equal(t, `"new"`, v, "the stale value was never stored")
}

func TestConcurrentFillersShareOneLease(t *testing.T) {
	t.Parallel()
	c := setup(t)
	ctx := context.Background()
	r := Ref{Kind: "k", ID: "lease"}
	release := make(chan struct{})
	inside := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := c.Get(ctx, r, func(context.Context) ([]byte, error) {
			close(inside)
			<-release
			return []byte(`"first"`), nil
		})
		require.NoError(t, err)
	}()
	<-inside
	// While the first filler holds the lease, others load for themselves.
	v, err := c.Get(ctx, r, func(context.Context) ([]byte, error) { return []byte(`"second"`), nil })
	require.NoError(t, err)
	require.Equal(t, `"second"`, v)
	close(release)
	<-done
	v, err = c.Get(ctx, r, func(context.Context) ([]byte, error) { return nil, errors.New("must hit") })
	require.NoError(t, err)
	require.Equal(t, `"first"`, v)
}

func TestGetMany(t *testing.T) {
	t.Parallel()
	c := setup(t)
	ctx := context.Background()
	refs := []Ref{{"a", "1"}, {"b", "2"}, {"a", "3"}}
	var loads atomic.Int32
	load := func(_ context.Context, i int) ([]byte, error) {
		loads.Add(1)
		return []byte(`"` + refs[i].Kind + refs[i].ID + `"`), nil
	}
	for range 2 {
		vs, err := c.GetMany(ctx, refs, load)
		require.NoError(t, err)
		require.Equal(t, []string{`"a1"`, `"b2"`, `"a3"`}, vs)
	}
	require.EqualValues(t, 3, loads.Load())
	require.NoError(t, c.Invalidate(ctx, refs[1]))
	_, err := c.GetMany(ctx, refs, load)
	require.NoError(t, err)
	require.EqualValues(t, 4, loads.Load())
}
