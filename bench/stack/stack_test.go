package stack

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatterly/chatterly/loadtest/proc"
)

func TestFreePortsAreDistinct(t *testing.T) {
	t.Parallel()
	ps, err := FreePorts(5)
	require.NoError(t, err)
	seen := map[int]bool{}
	for _, p := range ps {
		require.False(t, seen[p])
		seen[p] = true
	}
}

// TestStackLifecycle starts the real stack in its own folder, restarts each
// piece the fault scenarios restart, and stops it: nothing may be left
// running, and every piece must answer after its restart.
func TestStackLifecycle(t *testing.T) {
	checkout, err := Checkout()
	require.NoError(t, err)
	// The bound is a safety net, not a figure: Start builds three release
	// binaries first, which alone took 3 minutes on the shared 2-core
	// machine under a load average of 40; every wait after it is on a
	// condition (readyz, a new pid).
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir, err := DataDir(ctx, checkout, "bench-stack-test")
	require.NoError(t, err)
	s, err := Start(ctx, Config{Checkout: checkout, Dir: dir, Edges: 1, Logf: t.Logf})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			_ = s.Stop()
		}
	}()
	require.NoError(t, proc.HTTPOK(s.APIURL+"/readyz"))
	require.FileExists(t, s.KeyDir+"/signing.key")
	pgPID, redisPID := s.PG.PID(), s.Redis.PID()

	require.NoError(t, s.RestartRedis(ctx))
	require.NotEqual(t, redisPID, s.Redis.PID())
	require.NoError(t, s.RestartPostgres(ctx))
	require.NotEqual(t, pgPID, s.PG.PID())
	// The api's pools reconnect by themselves after both restarts.
	require.Eventually(t, func() bool { return proc.HTTPOK(s.APIURL+"/readyz") == nil }, 20*time.Second, 50*time.Millisecond)
	require.NoError(t, s.RestartAPI(ctx, syscall.SIGTERM))
	for i := range s.Edges {
		require.NoError(t, s.RestartEdge(ctx, i, syscall.SIGKILL))
	}
	if s.Worker != nil {
		require.NoError(t, s.RestartWorker(ctx, syscall.SIGTERM))
	}

	procs := s.Procs()
	require.NoError(t, s.Stop())
	stopped = true
	for _, p := range procs {
		require.False(t, p.Running(), p.Name)
	}
	_, err = os.Stat(dir + "/pg/postmaster.pid")
	require.True(t, os.IsNotExist(err), "postgres removed its pid file on a clean stop")
	require.NoError(t, os.RemoveAll(dir))
}
