package stats

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// TreeCPU returns the user and system time of pid and every process below
// it, the exited ones included (their time is in their parent's cutime and
// cstime once it waited for them): Postgres's, whose backends are children
// of the postmaster (or of the postmaster below a runuser).
func TreeCPU(pid int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type node struct {
		ppid  int
		ticks int64
	}
	nodes := map[int]node{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue // exited meanwhile
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// f[0] is field 3 (state): ppid is field 4, utime, stime, cutime,
		// cstime fields 14 to 17.
		f := strings.Fields(s[i+1:])
		if len(f) < 15 {
			continue
		}
		var n node
		n.ppid, _ = strconv.Atoi(f[1])
		for _, j := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseInt(f[j], 10, 64)
			n.ticks += v
		}
		nodes[p] = n
	}
	if _, ok := nodes[pid]; !ok {
		return 0, fmt.Errorf("stats: no process %d", pid)
	}
	children := map[int][]int{}
	for p, n := range nodes {
		children[n.ppid] = append(children[n.ppid], p)
	}
	var ticks int64
	stack := []int{pid}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		ticks += nodes[p].ticks
		stack = append(stack, children[p]...)
	}
	return time.Duration(ticks) * clockTick, nil
}
