// Package workertest runs the worker in process for a test: beside an api
// started with apitest (on its database, Redis and key prefix, on its
// clock), or on any variables. The relay, the missed-call job and the
// periodic jobs run as in chatterly-worker.
package workertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/worker"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/stretchr/testify/require"
)

// Worker is a running in-process worker.
type Worker struct {
	*worker.Worker
	// Addr serves /healthz, /readyz and /metrics.
	Addr string
	// Stop ends the worker (cleanly, as on SIGTERM) and waits for it; the
	// test's cleanup calls it too.
	Stop func()
}

// Start runs a worker beside s until the test ends. Its clock is the api's
// (s.Deps.Now, read at each use), so a test that moves the api's clock
// moves the worker's. env sets or overrides variables (CALL_RING_TIMEOUT,
// RELAY_GRACE…).
func Start(t testing.TB, s *apitest.Stack, env map[string]string) *Worker {
	t.Helper()
	vars := Vars(s)
	for k, v := range env {
		vars[k] = v
	}
	return StartWith(t, vars, func() time.Time { return s.Deps.Now() })
}

// Vars are the variables of a worker beside s: its database (as the api
// reaches it: through PgBouncer when the api does), Redis, key prefix,
// shards and ring timeout, and a node id of its own.
func Vars(s *apitest.Stack) map[string]string {
	return map[string]string{
		"DATABASE_URL":       s.Deps.Cfg.DatabaseURL,
		"DATABASE_PGBOUNCER": strconv.FormatBool(s.Deps.Cfg.PgBouncer),
		"REDIS_URL":          s.Deps.Cfg.RedisURL,
		"REDIS_STREAMS_URL":  s.Deps.Cfg.RedisStreamsURL,
		"REDIS_KEY_PREFIX":   s.Deps.Keys.Prefix,
		"STREAM_SHARDS":      strconv.Itoa(s.Deps.Keys.Shards),
		"CALL_RING_TIMEOUT":  s.Deps.Cfg.Calls.RingTimeout.String(),
		"NODE_ID":            "1023",
	}
}

// StartWith runs a worker configured from vars (plus quick relay and
// shutdown settings unless vars sets them) on the clock now.
func StartWith(t testing.TB, vars map[string]string, now func() time.Time) *Worker {
	t.Helper()
	all := map[string]string{"RELAY_GRACE": "200ms", "RELAY_INTERVAL": "100ms", "SHUTDOWN_TIMEOUT": "2s"}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := worker.LoadConfig(config.FromMap(all))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := worker.Open(ctx, cfg, logger(), metrics.NewRegistry(), now)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &Worker{Worker: w, Addr: ln.Addr().String(), Stop: stop}
}

// logger is silent unless TEST_LOG is set.
func logger() *slog.Logger {
	if os.Getenv("TEST_LOG") != "" {
		return logging.New(os.Stderr, "debug", "worker")
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
