// Package stats is the one /proc reader of the load generator and the
// bench: a process's CPU time, resident memory and open file descriptors,
// and the machine's load average and "key: value" fields.
package stats

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the kernel's USER_HZ, 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

// CPU returns the user and system time pid has used.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields resume after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("stats: unreadable /proc/%d/stat", pid)
	}
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stats: short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stats: unreadable /proc/%d/stat", pid)
	}
	return time.Duration(u+st) * clockTick, nil
}

// Memory is a process's resident memory from /proc/<pid>/status, in bytes.
type Memory struct {
	RSS  int64 `json:"vm_rss"`
	Anon int64 `json:"rss_anon"`
}

// ReadMemory reads VmRSS and RssAnon. A process without VmRSS (a zombie,
// a kernel thread) is an error.
func ReadMemory(pid int) (Memory, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	rss, ok := Field(path, "VmRSS")
	if !ok {
		return Memory{}, fmt.Errorf("stats: no VmRSS in %s", path)
	}
	anon, _ := Field(path, "RssAnon")
	return Memory{RSS: kib(rss), Anon: kib(anon)}, nil
}

// kib reads a "<n> kB" value as bytes.
func kib(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return n << 10
}

// Field returns the value of the first "key: value" line of a /proc file
// (status, meminfo, cpuinfo), trimmed.
func Field(path, key string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// LoadAverage is the one-minute load average now (0 when unknown).
func LoadAverage() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// OpenFDs counts pid's open file descriptors.
func OpenFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}
