package swarm

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// TestSmallRun drives a real edge with the built generator: 60 sockets in
// two socket children, 100 events/s for a second. Every event must reach
// each of its conversation's sockets, and every measurement must be filled
// in.
func TestSmallRun(t *testing.T) {
	t.Parallel()
	load := proctest.Build(t, "github.com/chatterly/chatterly/loadtest/cmd/chatterly-load")
	edge := proctest.Build(t, "github.com/chatterly/chatterly/edge/cmd/chatterly-edge")
	_, keys := redistest.Client(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	cmd := exec.Command(load, "-edge-bin", edge, "-redis", redistest.URL(t), "-prefix", keys.Prefix,
		"-shards", "4", "-key-dir", filepath.Join(dir, "keys"),
		"-target", proctest.Addr(proctest.FreePort(t)), "-admin", proctest.Addr(proctest.FreePort(t)),
		"-sockets", "60", "-per-proc", "30", "-convs", "6", "-rate", "100", "-duration", "1s",
		"-warmup", "200ms", "-settle", "100ms", "-json", out)
	cmd.Env = append(os.Environ(), "EDGE_SHUTDOWN_WINDOW=100ms", "EDGE_PRESENCE_GRACE=100ms")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, log.String())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		t.Fatalf("the run did not finish:\n%s", log.String())
	}
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	var res Result
	b, _ := io.ReadAll(f)
	require.NoError(t, json.Unmarshal(b, &res), string(b))
	require.Equal(t, 60, res.Connected, log.String())
	require.Zero(t, res.Failed)
	require.Positive(t, res.Events)
	require.Equal(t, res.Events*10, res.Expected, "each event goes to its conversation's 10 sockets")
	require.Equal(t, res.Expected, res.Frames, log.String())
	require.Zero(t, res.Lost)
	require.Positive(t, res.HandshakesPerS)
	require.Positive(t, res.EdgeCPUSeconds)
	require.Positive(t, res.LagP50MS)
	require.GreaterOrEqual(t, res.LagP99MS, res.LagP50MS)
	require.Positive(t, res.LoadedMemory.RSS)
	require.Zero(t, res.Closed)
}
