package scenario

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/load"
	"github.com/chatterly/chatterly/loadtest/stats"
)

// StepFloor labels the REST read scenario's reference step: the same
// generator, at the rate the held-rate row must reach, against a bare
// fasthttp server answering a fixed body (load.ServeFloor) in a process of
// its own. It is reported, not judged: what the machine, the generator and
// fasthttp allow before the api does any work of its own.
const StepFloor = "floor: bare fasthttp server, fixed 4 KiB body"

// Extras of every REST step: CPU time per request (user + system, from
// /proc/<pid>/stat for the server and getrusage for the harness process,
// whose share is the load generator's) over the step.
const (
	serverCPUExtra = "server_cpu_us_per_req"
	loadCPUExtra   = "load_cpu_us_per_req"
)

// cpuFigures is a step's CPU per request: the server's (the api's or the
// floor's) and the load generator's.
type cpuFigures struct{ server, load float64 }

func (c cpuFigures) String() string {
	return fmt.Sprintf("CPU per request: server %.1f µs, load generator %.1f µs", c.server, c.load)
}

// set records the figures on st (none when nothing was sent).
func (c cpuFigures) set(st *report.Step) {
	if c.server > 0 || c.load > 0 {
		st.Set(serverCPUExtra, c.server).Set(loadCPUExtra, c.load)
	}
}

// cpuPerRequest runs fn, which returns how many requests it sent, and
// divides the CPU time the server pid and this process used meanwhile by
// them. A figure that cannot be read is 0.
func (e *Env) cpuPerRequest(pid int, fn func() int64) cpuFigures {
	srv0, err0 := stats.CPU(pid)
	self0 := selfCPU()
	n := fn()
	srv1, err1 := stats.CPU(pid)
	self1 := selfCPU()
	if n <= 0 {
		return cpuFigures{}
	}
	var c cpuFigures
	if err0 == nil && err1 == nil {
		c.server = float64((srv1 - srv0).Microseconds()) / float64(n)
	}
	if self0 > 0 && self1 > 0 {
		c.load = float64((self1 - self0).Microseconds()) / float64(n)
	}
	return c
}

// selfCPU is this process's user and system time (0 when unreadable).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// floor runs StepFloor: `chatterly-bench floor` serves load.ServeFloor on
// a port the kernel picks and prints its address; the requests carry a
// bearer token of the real population's size, as the api's do.
func (e *Env) floor(ctx context.Context, sc *report.Scenario, tok string) error {
	cmd := exec.CommandContext(ctx, e.Stack.Binary("bench"), "floor")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no address from the floor server: %w", err)
	}
	c := load.NewHTTP("http://"+strings.TrimSpace(addr), e.Size.HTTPConns)
	req := c.Prepare("GET", "/conversations", tok, nil)
	op := func(context.Context, load.Call) error {
		_, err := c.Send(req)
		return err
	}
	rate := ReadHeldRate
	if e.Size.ReadSteps != nil {
		rate = min(rate, e.Size.ReadSteps[len(e.Size.ReadSteps)-1])
	}
	var r load.Result
	cpu := e.cpuPerRequest(cmd.Process.Pid, func() int64 {
		r = load.Run(ctx, load.Plan{Rate: rate, Duration: seconds(e.Size.StepSeconds), Workers: workersFor(rate),
			Grace: 2 * time.Second}, op)
		return r.Done + r.Failed
	})
	e.logf("%s %s: %s; %s", sc.Name, StepFloor, r, cpu)
	st := sc.Add(report.FromLoad(fmt.Sprintf("%s, %.0f/s", StepFloor, rate), r))
	st.Set("floor_held", b2f(held(r, ReadHeldP99)))
	cpu.set(st)
	// As after every step: let what it left drain.
	time.Sleep(500 * time.Millisecond)
	return nil
}
