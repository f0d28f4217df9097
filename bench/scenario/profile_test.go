package scenario

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// burn spins until its thread has run for cpu: CPU time, not wall time,
// so the profile holds enough of its samples however loaded the machine is
// (300 ms of wall time gave it 2 samples under a load average of 40).
//
//go:noinline
func burn(cpu time.Duration) int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	threadCPU := func() time.Duration {
		var ru unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	x, start := 0, threadCPU()
	for threadCPU()-start < cpu {
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
	burn(300 * time.Millisecond)
	pprof.StopCPUProfile()
	require.NoError(t, f.Close())
	line := TopOfProfile(path)
	require.True(t, strings.HasPrefix(line, "flat: "), line)
	require.Contains(t, line, "scenario.burn")
	require.Contains(t, line, "heaviest of ours (cumulative): ")

	empty := filepath.Join(t.TempDir(), "missing.pprof")
	require.Contains(t, TopOfProfile(empty), "could not read it")
}
