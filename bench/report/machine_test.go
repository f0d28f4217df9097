package report

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func runtimeCores() int { return runtime.NumCPU() }

func TestDescribeReadsTheMachine(t *testing.T) {
	t.Parallel()
	m := Describe(".")
	require.Positive(t, m.Cores)
	require.Positive(t, m.MemoryMiB)
	require.NotEmpty(t, m.Kernel)
	require.NotEmpty(t, m.GoVersion)
	require.Len(t, m.Commit, 40, "run inside the git checkout")
	require.Positive(t, m.OpenFiles)
}
