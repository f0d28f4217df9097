package scenario

import (
	"context"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/stats"
)

// Density opens as many sockets as one edge process may hold (its limit
// is the open-files limit less its headroom; EDGE_FD_HEADROOM is lowered
// for the bench), each authenticated and subscribed to its user's
// conversation of 19, on a freshly started edge, leaves them idle, and
// reads the edge's resident memory: per socket, RSS minus the idle
// process's RSS, divided by the sockets held. Handshakes per second are
// those completed while connecting at DensityConnectRate, with the CPU
// each cost the edge, the load generator and Redis.
func Density(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("density", "Density: sockets one edge process holds, memory per socket, handshakes/s")
	if why := e.noEdge(); why != "" {
		sc.NotMeasured = why
		return nil
	}
	// A fresh process, so that its idle size is the baseline.
	if err := e.Stack.RestartEdge(ctx, 0, syscall.SIGTERM); err != nil {
		return err
	}
	pid := e.Stack.Edges[0].PID()
	time.Sleep(time.Second) // let the new process finish its start-up allocations before the baseline
	baseMem, err := stats.ReadMemory(pid)
	if err != nil {
		return err
	}
	base := baseMem.RSS
	plans := make([]sockPlan, e.Size.DensitySockets)
	memberOf := e.World.MemberOf()
	g19 := map[int]bool{}
	for _, ci := range e.World.ByShape["g19"] {
		g19[ci] = true
	}
	for i := range plans {
		u := i % len(e.World.Users)
		plans[i] = sockPlan{user: u}
		for _, ci := range memberOf[u] {
			if g19[ci] {
				plans[i].convs = []int{ci}
				break
			}
		}
	}
	var r *wsRig
	connect := func() {
		r, err = e.openSockets(ctx, "density", plans, e.Size.PerChild, []int{0}, false, e.Size.DensityConnectRate)
	}
	// Where a handshake's CPU goes: the edge's profile over the first
	// seconds of the storm (pprof's sampling costs it ~1 %).
	cpu := &report.Step{}
	if e.Size.Profile {
		e.profileEdge(ctx, "profile", "edge-handshakes", 3, connect, cpu)
	} else {
		connect()
	}
	if err != nil {
		return err
	}
	defer r.close()
	// Idle: keepalive pings only, for DensityIdle, then read.
	time.Sleep(seconds(e.Size.DensityIdle)) // the idle period is what is measured
	status, err := r.clients.Status()
	if err != nil {
		return err
	}
	mem, err := stats.ReadMemory(pid)
	if err != nil {
		return err
	}
	rss := mem.RSS
	fds, _ := stats.OpenFDs(pid)
	st := connectStep(sc, r, e.Size.DensityConnectRate)
	st.Label = StepDensity
	st.Profile, st.Where = cpu.Profile, cpu.Where // the memory row's heap profile replaces it, below
	held := float64(status.Subscribed)
	st.Set(socketsExtra, held)
	st.Set("edge_open_fds", float64(fds))
	st.Set("edge_rss_idle_process_bytes", float64(base))
	st.Set("edge_rss_bytes", float64(rss))
	if held > 0 {
		st.Set(bytesPerSockExtra, float64(rss-base)/held)
	}
	if e.Size.Profile && st.Extra[bytesPerSockExtra] > BytesPerSocket {
		// Where the memory goes: the edge's live heap, sockets still idle.
		e.profileEdge(ctx, "heap", "edge-heap", 0, nil, st)
	}
	e.logf("density: %d sockets held, %.0f bytes RSS per socket, %.0f handshakes/s (CPU per handshake: edge %.0f µs, load %.0f µs)",
		status.Subscribed, st.Extra[bytesPerSockExtra], r.start.Rate, st.Extra[edgeCPUPerHandshakeExtra], st.Extra[loadCPUPerHandshakeExtra])
	return nil
}
