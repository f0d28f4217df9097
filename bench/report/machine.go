package report

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/chatterly/chatterly/loadtest/stats"
)

// Machine describes where a run was made.
type Machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	MemoryMiB int64  `json:"memory_mib"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	Commit    string `json:"commit"`
	// Dirty is true when the work tree had uncommitted changes.
	Dirty bool `json:"dirty"`
	// OpenFiles is the per-process open-files limit (RLIMIT_NOFILE).
	OpenFiles uint64 `json:"open_files_limit"`
	// Load1 is the one-minute load average when the run started: other
	// users of the machine show here.
	Load1 float64 `json:"load1"`
}

// Describe reads the machine description from /proc and git (run in dir).
func Describe(dir string) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OpenFiles: openFiles()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPU, _ = stats.Field("/proc/cpuinfo", "model name")
	if v, ok := stats.Field("/proc/meminfo", "MemTotal"); ok {
		kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		m.MemoryMiB = kb / 1024
	}
	m.Load1 = stats.LoadAverage()
	if out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		m.Dirty = len(strings.TrimSpace(string(out))) > 0
	}
	return m
}
