package replica

import (
	"context"
	"log/slog"
	"time"
)

// lookTimeout bounds one look: a replica that does not answer within it
// is down (generous, so a busy machine is not taken for an outage).
const lookTimeout = 2 * time.Second

// Run looks at the primary and the replica every pollInterval until ctx
// ends, keeping the state lagging reads are routed by, the lag metrics,
// and the log of reads leaving and returning to the replica.
func (r *Router) Run(ctx context.Context) {
	if r.replica == nil {
		return
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		r.look(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// look takes one sample of the primary's position, then asks the replica
// how far it has replayed, and decides.
func (r *Router) look(parent context.Context) {
	// A look that takes longer than this is a server not answering.
	ctx, cancel := context.WithTimeout(parent, lookTimeout)
	defer cancel()
	// The time is taken before the primary is asked: whatever was
	// committed by then is at or below the position it answers.
	at := r.now()
	var pos string
	if err := r.primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&pos); err == nil {
		if p, err := parseLSN(pos); err == nil {
			r.addSample(sample{at: at, pos: p})
		}
	}
	var inRecovery bool
	var replay *string
	err := r.replica.QueryRow(ctx, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text").Scan(&inRecovery, &replay)
	switch {
	case parent.Err() != nil:
		return // stopping: says nothing of the replica
	case err != nil:
		r.turnOff(reasonReplicaDown, err)
	case !inRecovery || replay == nil:
		r.turnOff(reasonNotStandby, nil)
	default:
		rp, err := parseLSN(*replay)
		if err != nil {
			r.turnOff(reasonNotStandby, err)
			return
		}
		r.judge(rp)
	}
}

// addSample keeps the primary's positions of the last 2×MaxLag, enough
// to tell a lag up to MaxLag from a longer one.
func (r *Router) addSample(s sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	keep := s.at.Add(-2*r.maxLag - pollInterval)
	i := 0
	for i < len(r.samples)-1 && r.samples[i].at.Before(keep) {
		i++
	}
	r.samples = r.samples[i:]
}

// judge sets the lag and the state from the replica's replay position.
// The lag is how old the newest sample of the primary is that the replica
// has replayed (it has everything committed by then): 0 when it has
// replayed the latest, and at least the samples' span when it has none.
func (r *Router) judge(replay lsn) {
	now := r.now()
	r.mu.Lock()
	var lag time.Duration
	var behind uint64
	if n := len(r.samples); n > 0 {
		latest := r.samples[n-1]
		if latest.pos > replay {
			behind = uint64(latest.pos - replay)
			lag = now.Sub(r.samples[0].at)
			for i := n - 1; i >= 0; i-- {
				if r.samples[i].pos <= replay {
					lag = now.Sub(r.samples[i].at)
					break
				}
			}
		}
	} else {
		lag = r.maxLag + time.Nanosecond // the primary gave no position yet
	}
	r.mu.Unlock()
	r.lagSecs.Set(lag.Seconds())
	r.lagBytes.Set(float64(behind))

	prev := r.state.Load()
	switch {
	case lag > r.maxLag:
		r.turnOff(reasonBehind, nil)
	case !prev.usable && prev.reason == reasonBehind && lag > r.maxLag/2:
		// Back only once well within the bound, so a replica hovering at
		// it does not flap (and log) at every look.
		r.state.Store(&state{reason: reasonBehind, replay: replay})
	default:
		r.turnOn(replay)
	}
}

// turnOff sends lagging reads to the primary for reason, logging it when
// they were on the replica (or had never been).
func (r *Router) turnOff(reason string, err error) {
	for {
		prev := r.state.Load()
		next := &state{reason: reason, replay: prev.replay}
		if !r.state.CompareAndSwap(prev, next) {
			continue
		}
		r.usable.Set(0)
		if prev.usable || prev.reason == reasonStarting {
			r.mu.Lock()
			r.offSince = r.now()
			r.mu.Unlock()
			r.offReads.Store(0)
			attrs := []slog.Attr{slog.String("reason", reason)}
			if err != nil {
				attrs = append(attrs, slog.String("err", err.Error()))
			}
			r.log.LogAttrs(context.Background(), slog.LevelWarn, "replica not used: reads that may lag go to the primary", attrs...)
		}
		return
	}
}

// turnOn lets lagging reads use the replica again, logging it when they
// did not.
func (r *Router) turnOn(replay lsn) {
	prev := r.state.Swap(&state{usable: true, replay: replay})
	r.usable.Set(1)
	if prev.usable {
		return
	}
	r.mu.Lock()
	since := r.offSince
	r.mu.Unlock()
	attrs := []slog.Attr{slog.Int64("reads_on_primary", r.offReads.Load())}
	if prev.reason != reasonStarting {
		attrs = append(attrs, slog.Float64("off_seconds", r.now().Sub(since).Seconds()), slog.String("was", prev.reason))
	}
	r.log.LogAttrs(context.Background(), slog.LevelInfo, "replica in use: reads that may lag go to it", attrs...)
}
