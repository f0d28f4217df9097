package stats

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProcReadingsOfThisProcess(t *testing.T) {
	t.Parallel()
	pid := os.Getpid()
	// Burn a little CPU so the counter moves past its 10 ms resolution.
	deadline := time.Now().Add(30 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	cpu, err := CPU(pid)
	require.NoError(t, err)
	require.Positive(t, cpu)
	m, err := ReadMemory(pid)
	require.NoError(t, err)
	require.Greater(t, m.RSS, int64(1<<20))
	_, err = CPU(0x7ffffff0)
	require.Error(t, err)
	fds, err := OpenFDs(pid)
	require.NoError(t, err)
	require.GreaterOrEqual(t, fds, 3)
	_, err = OpenFDs(0x7ffffff0)
	require.Error(t, err)
}
