package background_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/chatterly/chatterly/shared/background"
	"github.com/stretchr/testify/require"
)

// The loops outlive the cancellation of the context they were started
// from, see its values, and have all returned when stop returns.
func TestStopWaitsForEveryLoop(t *testing.T) {
	t.Parallel()
	type key struct{}
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	var ended atomic.Int32
	started := make(chan context.Context, 3)
	loop := func(ctx context.Context) {
		started <- ctx
		<-ctx.Done()
		ended.Add(1)
	}
	stop := background.Start(parent, loop, loop, loop)
	var ctxs []context.Context
	for range 3 {
		ctxs = append(ctxs, <-started)
	}
	cancelParent()
	for _, ctx := range ctxs {
		require.NoError(t, ctx.Err(), "a loop's context ended with its parent")
		require.Equal(t, "v", ctx.Value(key{}))
	}
	stop()
	require.EqualValues(t, 3, ended.Load())
}
