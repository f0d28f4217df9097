package server

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// goroutinesIn counts the goroutines whose stack passes through fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

func testConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, token.GenerateKey(dir))
	vars := map[string]string{"REDIS_URL": redistest.URL(t), "JWT_KEY_DIR": dir,
		"EDGE_ADDR": "127.0.0.1:0", "EDGE_ADMIN_ADDR": "127.0.0.1:0", "EDGE_EVENT_LOOPS": "1"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := LoadConfig(config.FromMap(vars))
	require.NoError(t, err)
	return cfg
}

// TestRunStopsWhatItStartedWhenItCannotStart: a listener that cannot bind
// and an admin address already taken make Run return an error, and leave
// no worker, reader or engine goroutine behind. (Not parallel: it counts
// goroutines.)
func TestRunStopsWhatItStartedWhenItCannotStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	for _, env := range []map[string]string{
		{"EDGE_ADDR": taken.Addr().String()},
		{"EDGE_ADMIN_ADDR": taken.Addr().String()},
	} {
		cfg := testConfig(t, env)
		d, err := Open(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
		require.NoError(t, err)
		require.Error(t, New(cfg, d).Run(context.Background()), "%v", env)
		for _, fn := range []string{"server.newPool", "server.(*Server).ticker", "gnet", "(*Consumer).Run", "(*Tracker).Run"} {
			require.Zero(t, goroutinesIn(fn), "%s left running (%v)", fn, env)
		}
	}
}

// TestNewChangesNothingProcessWide: the GC target is main's to set.
func TestNewChangesNothingProcessWide(t *testing.T) {
	cfg := testConfig(t, map[string]string{"EDGE_GC_PERCENT": "10"})
	d, err := Open(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	require.NoError(t, err)
	defer d.Close(context.Background())
	before := debug.SetGCPercent(77)
	New(cfg, d)
	require.Equal(t, 77, debug.SetGCPercent(before))
}
