package scenario

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/loadtest/stats"
)

// waitProbe reads, around one measured phase, what the stack's processes
// waited on (report.Waits), from outside them: /proc for CPU, each Go
// process's /metrics (or, for the bench's own processes, its runtime),
// Postgres's statistics views, Redis's LATENCY and SLOWLOG. Nothing it
// reads changes what the processes do.
type waitProbe struct {
	e       *Env
	t0      time.Time
	procs   []*probed
	loads   sockets.Clients
	loadCPU time.Duration
	loadRT  []stats.Runtime
	pg      pgStats
	pgErr   error
	redis   error
	missing []string
}

// benchProc names the bench's own process: the REST generator, and the
// sender of the delivery phases' POSTs and XADDs.
const benchProc = "bench (generator)"

// probed is one process the probe reads.
type probed struct {
	name string
	pid  int
	// tree counts the CPU of every process below pid too (Postgres).
	tree bool
	// metrics is its /metrics URL ("" for none); self reads this process's
	// runtime instead.
	metrics string
	self    bool
	cpu0    time.Duration
	rt0     stats.Runtime
	text0   []byte
	// text1 is the /metrics read at the end (the edge's histograms).
	text1 []byte
	err   error
}

// pgStats are the cumulative Postgres counters the probe subtracts.
type pgStats struct {
	commits, walWrite, walSync, walWriteMs, walSyncMs, walBytes, buffersFull float64
}

// startWaits reads the counters at a phase's start; loads are the socket
// children driving it.
func (e *Env) startWaits(ctx context.Context, loads sockets.Clients) *waitProbe {
	w := &waitProbe{e: e, loads: loads}
	st := e.Stack
	for i, p := range st.APIs {
		pr := &probed{name: p.Name, pid: p.PID()}
		if i < len(st.APIAdminURLs) {
			pr.metrics = st.APIAdminURLs[i] + "/metrics"
		}
		w.procs = append(w.procs, pr)
	}
	for _, ed := range st.Edges {
		w.procs = append(w.procs, &probed{name: ed.Name, pid: ed.PID(), metrics: ed.AdminURL + "/metrics"})
	}
	if st.Worker != nil {
		w.procs = append(w.procs, &probed{name: "worker", pid: st.Worker.PID(), metrics: st.WorkerURL + "/metrics"})
	}
	if st.PG != nil {
		w.procs = append(w.procs, &probed{name: "postgres", pid: st.PG.PID(), tree: true})
	}
	if st.Redis != nil {
		w.procs = append(w.procs, &probed{name: "redis", pid: st.Redis.PID()})
	}
	w.procs = append(w.procs, &probed{name: benchProc, pid: os.Getpid(), self: true})
	for _, p := range w.procs {
		p.cpu0, p.err = probedCPU(p)
		if p.err != nil {
			continue
		}
		p.rt0, p.text0, p.err = runtimeOf(p)
	}
	for _, pid := range loads.PIDs() {
		c, err := stats.CPU(pid)
		if err != nil {
			w.missing = append(w.missing, "load CPU: "+err.Error())
		}
		w.loadCPU += c
	}
	var err error
	if w.loadRT, err = loads.Runtime(); err != nil {
		w.missing = append(w.missing, "load runtime: "+err.Error())
	}
	w.pg, w.pgErr = e.readPG(ctx)
	w.redis = e.resetRedisWaits(ctx)
	w.t0 = time.Now()
	return w
}

// stop reads the counters again and returns the phase's waits.
func (w *waitProbe) stop(ctx context.Context) *report.Waits {
	wall := time.Since(w.t0).Seconds()
	out := &report.Waits{Seconds: wall, Missing: w.missing}
	pct := func(d float64) float64 { return 100 * d / wall }
	for _, p := range w.procs {
		cpu1, err := probedCPU(p)
		var rt1 stats.Runtime
		if err == nil && p.err == nil {
			rt1, p.text1, err = runtimeOf(p)
		}
		if err = firstErr(p.err, err); err != nil {
			out.Missing = append(out.Missing, p.name+": "+err.Error())
			continue
		}
		pw := report.ProcWaits{Name: p.name, CPUPct: pct((cpu1 - p.cpu0).Seconds())}
		if p.self || p.metrics != "" {
			pw.Go = goWaits(rt1.Sub(p.rt0), pct)
		}
		out.Procs = append(out.Procs, pw)
	}
	if len(w.loads) > 0 {
		var cpu time.Duration
		for _, pid := range w.loads.PIDs() {
			c, _ := stats.CPU(pid)
			cpu += c
		}
		pw := report.ProcWaits{Name: fmt.Sprintf("load (%d socket processes)", len(w.loads)), CPUPct: pct((cpu - w.loadCPU).Seconds())}
		if rts, err := w.loads.Runtime(); err == nil && len(rts) == len(w.loadRT) {
			var sum stats.Runtime
			for i := range rts {
				sum = addRuntime(sum, rts[i].Sub(w.loadRT[i]))
			}
			pw.Go = goWaits(sum, pct)
		}
		out.Procs = append(out.Procs, pw)
	}
	if pg1, err := w.e.readPG(ctx); firstErr(w.pgErr, err) == nil {
		p0 := w.pg
		out.Postgres = &report.PGWaits{Commits: pg1.commits - p0.commits, WALWrites: pg1.walWrite - p0.walWrite,
			WALWriteMs: pg1.walWriteMs - p0.walWriteMs, WALSyncs: pg1.walSync - p0.walSync, WALSyncMs: pg1.walSyncMs - p0.walSyncMs,
			WALBytes: pg1.walBytes - p0.walBytes, BuffersFull: pg1.buffersFull - p0.buffersFull}
	} else {
		out.Missing = append(out.Missing, "postgres: "+firstErr(w.pgErr, err).Error())
	}
	if rw, err := w.e.readRedisWaits(ctx); firstErr(w.redis, err) == nil {
		out.Redis = rw
	} else {
		out.Missing = append(out.Missing, "redis: "+firstErr(w.redis, err).Error())
	}
	return out
}

// hist is the change of histogram metric on process proc over the phase
// (after stop).
func (w *waitProbe) hist(proc, metric string) (stats.Hist, bool) {
	if p := w.proc(proc); p != nil {
		h1, _, ok1 := stats.ParseHist(p.text1, metric)
		h0, _, ok0 := stats.ParseHist(p.text0, metric)
		if ok0 && ok1 {
			return h1.Sub(h0), true
		}
	}
	return stats.Hist{}, false
}

// counter is the change of counter metric (all its series) on process
// proc over the phase (after stop).
func (w *waitProbe) counter(proc, metric string) (float64, bool) {
	if p := w.proc(proc); p != nil {
		v1, ok1 := stats.ParseSum(p.text1, metric)
		v0, ok0 := stats.ParseSum(p.text0, metric)
		if ok0 && ok1 {
			return v1 - v0, true
		}
	}
	return 0, false
}

// proc is the probed process named name whose /metrics were read at both
// ends, or nil.
func (w *waitProbe) proc(name string) *probed {
	for _, p := range w.procs {
		if p.name == name && p.text0 != nil && p.text1 != nil {
			return p
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func probedCPU(p *probed) (time.Duration, error) {
	if p.tree {
		return stats.TreeCPU(p.pid)
	}
	return stats.CPU(p.pid)
}

// runtimeOf reads a Go process's runtime: its own, or its /metrics.
func runtimeOf(p *probed) (stats.Runtime, []byte, error) {
	switch {
	case p.self:
		return stats.ReadRuntime(), nil, nil
	case p.metrics == "":
		return stats.Runtime{}, nil, nil
	}
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(p.metrics)
	if err != nil {
		return stats.Runtime{}, nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return stats.Runtime{}, nil, err
	}
	if r.StatusCode != http.StatusOK {
		return stats.Runtime{}, nil, fmt.Errorf("%s: %s", p.metrics, r.Status)
	}
	rt, ok := stats.ParseRuntime(b)
	if !ok {
		return rt, b, fmt.Errorf("%s exports no go_sched_latencies_seconds", p.metrics)
	}
	return rt, b, nil
}

// goWaits turns a runtime's change over the phase into report figures.
func goWaits(d stats.Runtime, pct func(float64) float64) *report.GoWaits {
	g := &report.GoWaits{GCCycles: d.GCCycles, GCPauseMs: 1000 * d.GCPauseSeconds,
		GCCPUPct: pct(d.GCCPUSeconds), AssistPct: pct(d.AssistCPUSeconds),
		SchedP99Ms: 1000 * d.Sched.Quantile(0.99), SchedMaxMs: 1000 * d.Sched.Max(), SchedLong: d.Sched.CountFrom(0.0009)}
	if n := d.Sched.Count(); n > 0 {
		g.SchedMeanMs = 1000 * d.SchedSum / n
	}
	return g
}

// addRuntime adds two processes' waits (the load processes, one line).
func addRuntime(a, b stats.Runtime) stats.Runtime {
	s := stats.Runtime{GCCycles: a.GCCycles + b.GCCycles, GCPauseSeconds: a.GCPauseSeconds + b.GCPauseSeconds,
		GCCPUSeconds: a.GCCPUSeconds + b.GCCPUSeconds, AssistCPUSeconds: a.AssistCPUSeconds + b.AssistCPUSeconds,
		SchedSum: a.SchedSum + b.SchedSum, Sched: b.Sched}
	if len(a.Sched.Counts) == len(b.Sched.Counts) {
		s.Sched = stats.Hist{Upper: b.Sched.Upper, Counts: make([]float64, len(b.Sched.Counts))}
		for i := range s.Sched.Counts {
			s.Sched.Counts[i] = a.Sched.Counts[i] + b.Sched.Counts[i]
		}
	}
	return s
}

// readPG reads Postgres's cumulative commit and WAL counters (the times
// need track_wal_io_timing, which the bench stack turns on).
func (e *Env) readPG(ctx context.Context) (pgStats, error) {
	var s pgStats
	err := e.DB.QueryRow(ctx, `SELECT wal_write, wal_sync, wal_write_time, wal_sync_time, wal_bytes::float8, wal_buffers_full,
		(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::float8 FROM pg_stat_wal`).
		Scan(&s.walWrite, &s.walSync, &s.walWriteMs, &s.walSyncMs, &s.walBytes, &s.buffersFull, &s.commits)
	return s, err
}

// resetRedisWaits empties Redis's latency monitor and slow log, so that
// what they hold at the end is the phase's.
func (e *Env) resetRedisWaits(ctx context.Context) error {
	for _, c := range [][]string{{"LATENCY", "RESET"}, {"SLOWLOG", "RESET"}} {
		if err := e.Redis.Do(ctx, e.Redis.B().Arbitrary(c...).Build()).Error(); err != nil {
			return err
		}
	}
	return nil
}

// readRedisWaits reads LATENCY LATEST and SLOWLOG GET.
func (e *Env) readRedisWaits(ctx context.Context) (*report.RedisWaits, error) {
	lat, err := e.Redis.Do(ctx, e.Redis.B().Arbitrary("LATENCY", "LATEST").Build()).ToArray()
	if err != nil {
		return nil, err
	}
	out := &report.RedisWaits{}
	for _, ev := range lat {
		f, err := ev.ToArray()
		if err != nil || len(f) < 4 {
			continue
		}
		name, _ := f[0].ToString()
		latest, _ := f[2].AsInt64()
		most, _ := f[3].AsInt64()
		out.Events = append(out.Events, report.RedisEvent{Name: name, LatestMs: float64(latest), MaxMs: float64(most)})
	}
	slow, err := e.Redis.Do(ctx, e.Redis.B().Arbitrary("SLOWLOG", "GET", "128").Build()).ToArray()
	if err != nil {
		return nil, err
	}
	out.Slow = len(slow)
	for _, en := range slow {
		f, err := en.ToArray()
		if err != nil || len(f) < 4 {
			continue
		}
		us, _ := f[2].AsInt64()
		if ms := float64(us) / 1000; ms > out.SlowMaxMs {
			out.SlowMaxMs = ms
			args, _ := f[3].AsStrSlice()
			out.SlowCommand = strings.Join(args[:min(2, len(args))], " ")
		}
	}
	return out, nil
}
