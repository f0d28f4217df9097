package stack

import (
	"fmt"
	"os"
	"time"

	"github.com/chatterly/chatterly/loadtest/stats"
)

// CPUTime is the user plus system CPU time pid has used (10 ms
// resolution), read as the load generator reads it (stats.CPU).
func CPUTime(pid int) (time.Duration, error) { return stats.CPU(pid) }

// RSS is the resident set size of pid in bytes (VmRSS of
// /proc/<pid>/status, through stats.ReadMemory).
func RSS(pid int) (int64, error) {
	m, err := stats.ReadMemory(pid)
	return m.RSS, err
}

// OpenFDs counts pid's open file descriptors.
func OpenFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}
