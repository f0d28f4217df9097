package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/bench/stack"
)

// FleetFaultSteps are the fleet scenario's fault phases.
var FleetFaultSteps = []string{"postgres replica stop", "redis master failover"}

// replicaDown is how long the fleet's replica stays stopped (at most half
// a fault phase): the api nodes look at it every 200 ms, so they serve
// from the primary meanwhile.
const replicaDown = 3 * time.Second

// Fleet starts the multi-node topology beside the run's stack
// (stack.FleetConfig: a Redis Cluster of 3 masters with a replica each, a
// Postgres primary with a streaming replica and PgBouncer, stack.FleetAPIs
// api nodes, every edge, the worker), seeds it, and spreads FleetSockets
// sockets over every edge, held by several socket processes, each under
// the open-files limit, so the fleet holds more than one process can. It
// runs the judged g19 load through the api nodes in turn and measures
// delivery across the nodes. Then, with the faults scenario's recovering
// clients over every edge and its loop, the fault phases: the replica
// stopped, and a Redis master killed (SIGKILL) mid-traffic while its
// replica takes over.
func Fleet(ctx context.Context, e *Env) (err error) {
	sc := e.Run.Scenario("fleet", "Fleet: a Redis Cluster, a Postgres replica and PgBouncer, several api and edge nodes, several load processes")
	if why := e.noEdge(); why != "" {
		sc.NotMeasured = why
		return nil
	}
	n := len(e.Stack.Edges)
	if n < 2 {
		sc.NotMeasured = "the stack runs one edge; a fleet needs two or more"
		return nil
	}
	t0 := time.Now()
	st, err := stack.Start(ctx, e.Stack.FleetConfig())
	if err != nil {
		return err
	}
	defer func() {
		if serr := st.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	fe, closeEnv, err := e.Open(ctx, st)
	if err != nil {
		return err
	}
	defer closeEnv()
	e.logf("fleet: %d api, %d edges, a Redis Cluster of 6 nodes, Postgres with a replica behind PgBouncer: up and seeded in %s",
		len(st.APIs), len(st.Edges), time.Since(t0).Round(time.Millisecond))
	edges := make([]int, n)
	for i := range edges {
		edges[i] = i
	}
	plans := fe.membersPlan(e.Size.FleetSockets, n, "g19")
	r, err := fe.openSockets(ctx, "fleet", plans, e.Size.PerChild, edges, false, e.Size.ConnectRate)
	if err != nil {
		return err
	}
	connectStep(sc, r, e.Size.ConnectRate)
	res, err := r.run(ctx, phase{label: StepFleet, convs: fe.World.ByShape["g19"], rate: e.Size.DeliveryRate, secs: e.Size.FleetSecs, viaAPI: true})
	if err != nil {
		_ = r.close()
		return err
	}
	status, err := r.clients.Status()
	_ = r.close()
	if err != nil {
		return err
	}
	step := sc.Add(res.step(StepFleet))
	step.Set("sockets_wanted", float64(r.start.Wanted))
	step.Set(socketsExtra, float64(status.Subscribed))
	step.Set("edges", float64(n))
	step.Set("api_nodes", float64(len(st.APIs)))
	step.Set("load_processes", float64(len(r.clients)))
	step.Set("per_process_limit", float64(e.Run.Machine.OpenFiles))
	if status.Subscribed < r.start.Wanted {
		sc.Error = fmt.Sprintf("%d of %d sockets held after the load", status.Subscribed, r.start.Wanted)
	}
	// The faults, with the faults scenario's recovering clients spread
	// over every edge.
	fr, convs, err := fe.faultRig(ctx, sc, "fleet faults", edges)
	if err != nil {
		return err
	}
	defer fr.close()
	return fe.faultPhases(ctx, sc, fr, convs, []fault{
		{name: FleetFaultSteps[0], inject: func(ctx context.Context) error {
			return st.RestartReplica(ctx, min(replicaDown, seconds(e.Size.FaultSecs)/2))
		}},
		{name: FleetFaultSteps[1], inject: func(context.Context) error { return st.FailRedisMaster(fe.Keys.Stream(0)) }, after: st.RejoinRedis},
	})
}
