package report

import (
	"fmt"
	"strings"
)

// Waits are what the stack's processes and engines waited on during one
// measured phase, read by the harness around it without changing what the
// processes do: per process its CPU and what its Go runtime says (GC,
// scheduler latency), Postgres's WAL writes and fsyncs, Redis's latency
// events and slow commands.
type Waits struct {
	Seconds  float64     `json:"seconds"`
	Procs    []ProcWaits `json:"procs"`
	Postgres *PGWaits    `json:"postgres,omitempty"`
	Redis    *RedisWaits `json:"redis,omitempty"`
	// Missing says what could not be read, and why.
	Missing []string `json:"missing,omitempty"`
}

// ProcWaits is one process (or a group of alike ones: the load
// processes) over the phase.
type ProcWaits struct {
	Name string `json:"name"`
	// CPUPct is user plus system CPU over the phase's wall time (100 is
	// one core); Postgres counts every backend.
	CPUPct float64 `json:"cpu_pct"`
	// Go is set for Go processes.
	Go *GoWaits `json:"go,omitempty"`
}

// GoWaits is what a Go process's runtime recorded over the phase.
type GoWaits struct {
	GCCycles  float64 `json:"gc_cycles"`
	GCPauseMs float64 `json:"gc_pause_ms"`
	// GCCPUPct and AssistPct are GC CPU (all of it; the part assists
	// did) over wall time, as CPUPct.
	GCCPUPct  float64 `json:"gc_cpu_pct"`
	AssistPct float64 `json:"gc_assist_pct"`
	// Sched: how long runnable goroutines waited for a thread — the mean,
	// and the p99 and max as their histogram bucket's upper bound.
	SchedMeanMs float64 `json:"sched_mean_ms"`
	SchedP99Ms  float64 `json:"sched_p99_ms"`
	SchedMaxMs  float64 `json:"sched_max_ms"`
	// SchedLong counts the waits of 0.9 ms or more (the exported
	// histogram's buckets are powers of ten from 64 ns: 0.92 ms is a bound).
	SchedLong float64 `json:"sched_waits_from_0_9ms"`
}

// PGWaits is Postgres over the phase (pg_stat_wal with
// track_wal_io_timing, pg_stat_database).
type PGWaits struct {
	Commits     float64 `json:"commits"`
	WALWrites   float64 `json:"wal_writes"`
	WALWriteMs  float64 `json:"wal_write_ms"`
	WALSyncs    float64 `json:"wal_syncs"`
	WALSyncMs   float64 `json:"wal_sync_ms"`
	WALBytes    float64 `json:"wal_bytes"`
	BuffersFull float64 `json:"wal_buffers_full"`
}

// RedisWaits is Redis over the phase: LATENCY LATEST (events of 1 ms or
// more) and SLOWLOG (commands of 1 ms or more), both reset at its start.
type RedisWaits struct {
	Events []RedisEvent `json:"latency_events,omitempty"`
	// Slow counts slow-log entries; SlowMaxMs is the slowest and
	// SlowCommand its command.
	Slow        int     `json:"slowlog"`
	SlowMaxMs   float64 `json:"slowlog_max_ms"`
	SlowCommand string  `json:"slowlog_max_command,omitempty"`
}

// RedisEvent is one LATENCY LATEST line.
type RedisEvent struct {
	Name     string  `json:"event"`
	LatestMs float64 `json:"latest_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Line is the waits in one line, as REPORT.md prints them beside a row.
func (w *Waits) Line() string {
	if w == nil {
		return ""
	}
	var parts []string
	for _, p := range w.Procs {
		s := fmt.Sprintf("%s %.0f %% CPU", p.Name, p.CPUPct)
		if g := p.Go; g != nil {
			if g.GCCycles > 0 {
				s += fmt.Sprintf(", GC %.0f× paused %s ms, %.1f %% CPU (assist %.1f %%)", g.GCCycles, Ms(g.GCPauseMs), g.GCCPUPct, g.AssistPct)
			} else {
				s += ", no GC"
			}
			s += fmt.Sprintf(", runnable waits mean %s ms, p99 ≤ %s ms, %.0f ≥ 0.9 ms", Ms(g.SchedMeanMs), Ms(g.SchedP99Ms), g.SchedLong)
		}
		parts = append(parts, s)
	}
	if pg := w.Postgres; pg != nil {
		s := fmt.Sprintf("postgres %.0f commits, %.0f WAL fsyncs", pg.Commits, pg.WALSyncs)
		if pg.WALSyncs > 0 {
			s += fmt.Sprintf(" averaging %s ms (%s ms in all)", Ms(pg.WALSyncMs/pg.WALSyncs), Ms(pg.WALSyncMs))
		}
		s += fmt.Sprintf(", %.0f WAL writes", pg.WALWrites)
		if pg.WALWrites > 0 {
			s += fmt.Sprintf(" averaging %s ms", Ms(pg.WALWriteMs/pg.WALWrites))
		}
		if pg.BuffersFull > 0 {
			s += fmt.Sprintf(", WAL buffers full %.0f×", pg.BuffersFull)
		}
		parts = append(parts, s)
	}
	if r := w.Redis; r != nil {
		s := "redis no latency event ≥ 1 ms"
		if len(r.Events) > 0 {
			var ev []string
			for _, e := range r.Events {
				ev = append(ev, fmt.Sprintf("%s max %s ms", e.Name, Ms(e.MaxMs)))
			}
			s = "redis latency events " + strings.Join(ev, ", ")
		}
		s += fmt.Sprintf("; %d commands ≥ 1 ms", r.Slow)
		if r.Slow > 0 {
			s += fmt.Sprintf(" (slowest %s ms: %s)", Ms(r.SlowMaxMs), r.SlowCommand)
		}
		parts = append(parts, s)
	}
	line := fmt.Sprintf("waits over the phase (%.1f s): %s", w.Seconds, strings.Join(parts, "; "))
	if len(w.Missing) > 0 {
		line += " (not read: " + strings.Join(w.Missing, "; ") + ")"
	}
	return line
}
