package scenario

import (
	"context"
	"fmt"
)

// Fleet spreads FleetSockets sockets over every edge of the stack (all
// behind the one Redis), held by several socket processes, each under the
// open-files limit, so the fleet holds more than one process can; then it
// runs the judged g19 load through the api and measures delivery across
// the nodes.
func Fleet(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("fleet", "Fleet: several edges behind one Redis, several load processes")
	if why := e.noEdge(); why != "" {
		sc.NotMeasured = why
		return nil
	}
	n := len(e.Stack.Edges)
	if n < 2 {
		sc.NotMeasured = "the stack runs one edge; a fleet needs two or more"
		return nil
	}
	edges := make([]int, n)
	for i := range edges {
		edges[i] = i
	}
	plans := e.membersPlan(e.Size.FleetSockets, n, "g19")
	r, err := e.openSockets(ctx, "fleet", plans, e.Size.PerChild, edges, false, e.Size.ConnectRate)
	if err != nil {
		return err
	}
	defer r.close()
	connectStep(sc, r, e.Size.ConnectRate)
	res, err := r.run(ctx, phase{label: StepFleet, convs: e.World.ByShape["g19"], rate: e.Size.DeliveryRate,
		secs: e.Size.FleetSecs, viaAPI: true})
	if err != nil {
		return err
	}
	status, err := r.clients.Status()
	if err != nil {
		return err
	}
	st := sc.Add(res.step(StepFleet))
	st.Set("sockets_wanted", float64(r.start.Wanted))
	st.Set(socketsExtra, float64(status.Subscribed))
	st.Set("edges", float64(n))
	st.Set("load_processes", float64(len(r.clients)))
	st.Set("per_process_limit", float64(e.Run.Machine.OpenFiles))
	if status.Subscribed < r.start.Wanted {
		sc.Error = fmt.Sprintf("%d of %d sockets held after the load", status.Subscribed, r.start.Wanted)
	}
	return nil
}
