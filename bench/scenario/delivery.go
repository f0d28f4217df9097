package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/stats"
)

// Delivery opens one socket per user on the first edge, each subscribed
// to every conversation of its user, and measures delivery to every
// subscriber: the judged 1,000 events/s over the 1,000 conversations of
// 19 (from api acceptance: a POST at its due time; from stream entry: an
// event appended at its due time), one event a second to the conversation
// of every user (judged on its last socket), the other shapes and rates
// (reported), and then the sustained fan-out (its own scenario, fanout).
func Delivery(ctx context.Context, e *Env) error {
	sc := e.Run.Scenario("delivery", "WebSocket delivery to every subscriber")
	fo := e.Run.Scenario("fanout", "Sustained fan-out on one edge")
	if why := e.noEdge(); why != "" {
		sc.NotMeasured, fo.NotMeasured = why, why
		return nil
	}
	plans := e.membersPlan(e.Size.Users, 1, "g19", "all", "g2", "g20", "g200")
	r, err := e.openSockets(ctx, "delivery", plans, e.Size.PerChild, []int{0}, false, e.Size.ConnectRate)
	if err != nil {
		return err
	}
	defer r.close()
	r.explain = true
	connectStep(sc, r, e.Size.ConnectRate)
	if r.start.Connected < r.start.Wanted {
		return fmt.Errorf("only %d of %d sockets connected: %s", r.start.Connected, r.start.Wanted, r.start.FirstErr)
	}

	g19, all := e.World.ByShape["g19"], e.World.ByShape["all"]
	for _, p := range []phase{
		{label: StepG19API, convs: g19, rate: e.Size.DeliveryRate, secs: e.Size.DeliverySecs, viaAPI: true},
		{label: StepG19Stream, convs: g19, rate: e.Size.DeliveryRate, secs: e.Size.DeliverySecs},
	} {
		res, err := r.run(ctx, p)
		if err != nil {
			return err
		}
		sc.Add(res.step(p.label))
	}
	res, err := r.run(ctx, phase{label: "all", convs: all, rate: e.Size.AllRate, secs: e.Size.AllSecs})
	if err != nil {
		return err
	}
	sc.Add(res.lastStep(StepAllStream))
	sc.Add(res.step("all 1 ev/s, every socket from stream entry"))
	for _, sp := range e.Size.Shapes {
		convs := e.World.ByShape[sp.Shape]
		if len(convs) == 0 {
			continue
		}
		from := "stream entry"
		if sp.ViaAPI {
			from = "api"
		}
		label := fmt.Sprintf("%s %.0f ev/s, from %s", sp.Shape, sp.Rate, from)
		res, err := r.run(ctx, phase{label: label, convs: convs, rate: sp.Rate, secs: sp.Secs, viaAPI: sp.ViaAPI})
		if err != nil {
			return err
		}
		sc.Add(res.step(label))
		if sp.Shape == "all" {
			sc.Add(res.lastStep(label + ", last socket"))
		}
	}
	return fanout(ctx, e, r, fo)
}

// fanout sends FanoutRate events/s to the conversation of every user and
// measures frames delivered per second and the edge's CPU per frame (user
// plus system time of its process, /proc/<pid>/stat, over the phase; the
// edge's keepalive pings, one per socket every 3 s, are in the CPU but not
// in the frames, so the per-frame figure errs high).
func fanout(ctx context.Context, e *Env, r *wsRig, sc *report.Scenario) error {
	pid := e.Stack.Edges[0].PID()
	cpu0, err := stats.CPU(pid)
	if err != nil {
		return err
	}
	res, err := r.run(ctx, phase{label: StepFanout, convs: e.World.ByShape["all"], rate: e.Size.FanoutRate, secs: e.Size.FanoutSecs})
	if err != nil {
		return err
	}
	cpu1, err := stats.CPU(pid)
	if err != nil {
		return err
	}
	st := sc.Add(res.step(StepFanout))
	frames := float64(res.rep.Delivered)
	wall := res.settled.Sub(res.start).Seconds()
	if wall > 0 {
		st.Set(framesExtra, frames/wall)
	}
	if frames > 0 {
		st.Set(cpuPerFrameExtra, float64((cpu1-cpu0).Microseconds())/frames)
	}
	st.Set("frames_offered_per_s", e.Size.FanoutRate*float64(r.subs[int64(e.World.Conversations[e.World.ByShape["all"][0]].ID)]))
	st.Set("edge_cpu_s", (cpu1 - cpu0).Seconds())
	st.Set("wall_s", wall)
	e.logf("fanout: %.0f frames/s, %.2f µs edge CPU per frame", st.Extra[framesExtra], st.Extra[cpuPerFrameExtra])
	return e.profileMisses(ctx, r, sc)
}

// profileMisses profiles the edge, during a rerun of the fan-out on the
// same sockets, when a row it answers for missed: delivery latency, the
// last of 19,000 sockets, frames per second, CPU per frame. Delivery from
// api acceptance runs the api's POST path first: it gets the REST write's
// profile when there is one.
func (e *Env) profileMisses(ctx context.Context, r *wsRig, fo *report.Scenario) error {
	if !e.Size.Profile {
		return nil
	}
	step := func(scenario, label string) *report.Step { return measuredStep(e.Run, scenario, label) }
	var cpu []*report.Step
	if st := step("delivery", StepG19API); st != nil && time.Duration(st.Latency.P99) > DeliveryAPIP99 {
		if w := step("rest_write", stepFixed); w != nil && w.Profile != "" {
			st.Profile, st.Where = w.Profile, "the api's POST path (profile of the REST write at its fixed rate): "+w.Where
		} else {
			cpu = append(cpu, st)
		}
	}
	for _, c := range []struct {
		label string
		limit time.Duration
	}{{StepG19Stream, DeliveryStreamP99}, {StepAllStream, AllLastP99}} {
		if st := step("delivery", c.label); st != nil && time.Duration(st.Latency.P99) > c.limit {
			cpu = append(cpu, st)
		}
	}
	if st := step("fanout", StepFanout); st != nil &&
		(st.Extra[framesExtra] < FanoutFrames || st.Extra[cpuPerFrameExtra] > CPUPerFrameUS) {
		cpu = append(cpu, st)
	}
	if len(cpu) == 0 {
		return nil
	}
	secs := int(min(10, e.Size.FanoutSecs))
	var res *phaseResult
	var err error
	e.profileEdge(ctx, "profile", "edge-cpu", secs, func() {
		res, err = r.run(ctx, phase{label: StepFanout + ", profiled", convs: e.World.ByShape["all"],
			rate: e.Size.FanoutRate, secs: float64(secs)})
	}, cpu...)
	if err != nil {
		return err
	}
	fo.Add(res.step(StepFanout + ", profiled rerun"))
	return nil
}

// connectStep records how the sockets of a rig connected, offered at rate
// handshakes per second.
func connectStep(sc *report.Scenario, r *wsRig, rate float64) *report.Step {
	h := hist.New()
	h.MergeSnapshot(r.start.Handshake)
	st := sc.Add(report.FromHist("connect and subscribe", h))
	st.Rate = rate
	st.Due, st.Done, st.Failed = int64(r.start.Wanted), int64(r.start.Connected), int64(r.start.Failed)
	st.Throughput, st.FirstError = r.start.Rate, r.start.FirstErr
	st.Set("sockets_wanted", float64(r.start.Wanted))
	st.Set("sockets_connected", float64(r.start.Connected))
	st.Set(handshakesExtra, r.start.Rate)
	st.Set("load_processes", float64(len(r.clients)))
	if n := float64(r.start.Connected); n > 0 {
		st.Set(edgeCPUPerHandshakeExtra, float64(r.edgeCPU.Microseconds())/n)
		st.Set(loadCPUPerHandshakeExtra, float64(r.loadCPU.Microseconds())/n)
		st.Set("redis_cpu_us_per_handshake", float64(r.redisCPU.Microseconds())/n)
	}
	return st
}
