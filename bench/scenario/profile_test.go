package scenario

import (
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

//go:noinline
func burn(until time.Time) int {
	x := 0
	for time.Now().Before(until) {
		for i := 0; i < 1000; i++ {
			x += i * i
		}
	}
	return x
}

// TestTopOfProfileNamesTheHotFunction profiles a busy loop and expects the
// one-line summary to name it.
func TestTopOfProfileNamesTheHotFunction(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, pprof.StartCPUProfile(f))
	burn(time.Now().Add(300 * time.Millisecond))
	pprof.StopCPUProfile()
	require.NoError(t, f.Close())
	line := TopOfProfile(path)
	require.True(t, strings.HasPrefix(line, "flat: "), line)
	require.Contains(t, line, "scenario.burn")
	require.Contains(t, line, "heaviest of ours (cumulative): ")

	empty := filepath.Join(t.TempDir(), "missing.pprof")
	require.Contains(t, TopOfProfile(empty), "could not read it")
}
