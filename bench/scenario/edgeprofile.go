package scenario

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/bench/report"
)

// EdgeProfile reruns the edge's heaviest load under a CPU profile when a
// row the edge answers for missed its target: the first edge is restarted
// as the profiled build, the delivery scenario's sockets connect to it,
// sit idle (a heap profile is taken then, for the memory row), and take
// the fan-out load. The profiles are recorded on the rows' steps.
func EdgeProfile(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("edge_profile", "Edge under a CPU and heap profile (rerun for rows that missed)")
	if !e.Size.Profile {
		sc.NotMeasured = "profiles are taken in full runs only"
		return nil
	}
	if why := e.noEdge(); why != "" {
		sc.NotMeasured = why
		return nil
	}
	cpu, mem := e.edgeMisses()
	if len(cpu) == 0 && len(mem) == 0 {
		sc.NotMeasured = "every row the edge answers for met its target: no profile needed"
		return nil
	}
	heapFile, heapRel := e.profilePath("edge-heap")
	cpuFile, _ := e.profilePath("edge-cpu")
	var runErr error
	e.profilePiece(ctx, "edge0", "edge-cpu", func() error {
		plans := e.membersPlan(e.Size.Users, 1, "all")
		r, err := e.openSockets(ctx, "profile", plans, e.Size.PerChild, []int{0}, false, e.Size.ConnectRate)
		if err != nil {
			runErr = err
			return err
		}
		defer r.close()
		time.Sleep(seconds(e.Size.DensityIdle)) // idle sockets, as the density row measures them
		_ = e.Stack.Proc("edge0").Signal(syscall.SIGUSR1)
		waitFile(cpuFile+".heap", 10*time.Second)
		res, err := r.run(ctx, phase{label: StepFanout + ", profiled", convs: e.World.ByShape["all"],
			rate: e.Size.FanoutRate, secs: min(10, e.Size.FanoutSecs)})
		if err != nil {
			runErr = err
			return err
		}
		sc.Add(res.step(StepFanout + ", profiled rerun"))
		return nil
	}, cpu...)
	if runErr != nil {
		sc.Error = runErr.Error()
	}
	if len(mem) > 0 {
		if err := os.Rename(cpuFile+".heap", heapFile); err == nil {
			where := TopOfProfile(heapFile, "-sample_index=inuse_space")
			for _, st := range mem {
				st.Profile, st.Where = heapRel, "live heap with the sockets idle, "+where
			}
		}
	}
	return nil
}

// edgeMisses lists the judged steps the edge answers for that missed their
// targets: by CPU (delivery latency, fan-out) and by memory (density).
func (e *Env) edgeMisses() (cpu, mem []*report.Step) {
	step := func(scenario, label string) *report.Step {
		if sc := scenarioOf(e.Run, scenario); sc != nil && sc.NotMeasured == "" {
			return sc.Step(label)
		}
		return nil
	}
	// Delivery from api acceptance runs the api's POST path first: its
	// profile is the REST write's, when that one was taken.
	if st := step("delivery", StepG19API); st != nil && time.Duration(st.Latency.P99) > DeliveryAPIP99 {
		if w := step("rest_write", stepFixed); w != nil && w.Profile != "" {
			st.Profile, st.Where = w.Profile, "the api's POST path (profile of the REST write at its fixed rate): "+w.Where
		} else {
			cpu = append(cpu, st)
		}
	}
	for _, c := range []struct {
		scenario, label string
		limit           time.Duration
	}{
		{"delivery", StepG19Stream, DeliveryStreamP99},
		{"delivery", StepAllStream, AllLastP99},
	} {
		if st := step(c.scenario, c.label); st != nil && time.Duration(st.Latency.P99) > c.limit {
			cpu = append(cpu, st)
		}
	}
	if st := step("fanout", StepFanout); st != nil &&
		(st.Extra[framesExtra] < FanoutFrames || st.Extra[cpuPerFrameExtra] > CPUPerFrameUS) {
		cpu = append(cpu, st)
	}
	if st := step("density", StepDensity); st != nil && st.Extra[bytesPerSockExtra] > BytesPerSocket {
		mem = append(mem, st)
	}
	return cpu, mem
}

// waitFile polls for a file another process writes, up to timeout.
func waitFile(path string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling another process's file: no event to wait on
	}
}
