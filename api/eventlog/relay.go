package eventlog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Hook runs before the relay republishes an event, for state that had to
// change together with the event's publication and may have been lost with
// it (the edge's member sets). An error leaves the event for the next pass.
type Hook func(ctx context.Context, e Event) error

// Relay republishes committed events that were never marked published: the
// process died between commit and XADD, Redis was down, or a mark was lost.
// It appends them through the same guard as the publisher, in seq order per
// conversation, so a duplicate is a no-op and an event parked behind a
// missing predecessor is released when the relay appends that predecessor.
//
// Any number of relays may run at once (the worker runs one): the guard
// makes a second append of a seq a no-op.
type Relay struct {
	guard    *Guard
	st       store
	log      *slog.Logger
	now      func() time.Time
	grace    time.Duration
	interval time.Duration
	batch    int
	hooks    []Hook

	relayed prometheus.Counter
	swept   prometheus.Counter
}

// RelayConfig tunes a Relay.
type RelayConfig struct {
	// Grace is how old an unmarked event must be before the relay takes
	// it: younger ones are still in their publisher's hands.
	Grace time.Duration
	// Interval is the pause between passes that found nothing to do.
	Interval time.Duration
	// Batch bounds the events read per pass.
	Batch int
}

// NewRelay returns a Relay appending through guard and reading db (the
// primary). hooks run before each republished event. Its counter goes to
// reg, when not nil, under the process's prefix (the caller wraps reg:
// chatterly_worker_events_relayed_total).
func NewRelay(guard *Guard, db *pgxpool.Pool, log *slog.Logger, now func() time.Time, cfg RelayConfig, reg prometheus.Registerer, hooks ...Hook) *Relay {
	r := &Relay{guard: guard, st: store{db}, log: log, now: now, grace: cfg.Grace, interval: cfg.Interval,
		batch: cfg.Batch, hooks: hooks,
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_relayed_total",
			Help: "Unmarked conversation events the relay offered to the stream again.",
		}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_swept_total",
			Help: "Published conversation events offered to the stream again after a Redis master restarted or was replaced (Relay.Sweep).",
		})}
	if r.batch <= 0 {
		r.batch = 500
	}
	if reg != nil {
		reg.MustRegister(r.relayed, r.swept)
	}
	return r
}

// Run makes passes until ctx ends: at once again after a full pass, after
// Interval otherwise.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTimer(r.interval)
	defer t.Stop()
	for {
		n, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "relay pass failed", "err", err)
		}
		wait := r.interval
		if n >= r.batch && err == nil {
			wait = 0
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce makes one pass over the unmarked events older than the grace
// period and returns how many it read.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	evs, err := r.st.unpublished(ctx, id.Floor(r.now().Add(-r.grace)), r.batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	var convs, seqs []int64
	var firstErr error
	for i := 0; i < len(evs); {
		j := i
		for j < len(evs) && evs[j].ConversationID == evs[i].ConversationID {
			j++
		}
		done, err := r.conversation(ctx, evs[i:j], r.relayed)
		for _, s := range done {
			convs, seqs = append(convs, int64(evs[i].ConversationID)), append(seqs, s)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		i = j
	}
	if err := r.st.mark(ctx, convs, seqs); err != nil && firstErr == nil {
		firstErr = err
	}
	return len(evs), firstErr
}

// conversation republishes one conversation's unmarked events, in seq
// order, counting each offer in offered, and returns the seqs now on the
// stream. It stops at the first
// failure: a later event would only park behind it.
func (r *Relay) conversation(ctx context.Context, evs []Event, offered prometheus.Counter) ([]int64, error) {
	var done []int64
	for _, e := range evs {
		for _, h := range r.hooks {
			if err := h(ctx, e); err != nil {
				return done, fmt.Errorf("eventlog: relay hook for %s seq %d: %w", e.ConversationID, e.Seq, err)
			}
		}
		offered.Inc()
		out, err := r.guard.Put(ctx, e)
		if err == nil && out.Status == Parked {
			var filled []int64
			filled, out, err = r.fill(ctx, e, out.Published)
			done = append(done, filled...)
		}
		if err != nil {
			return done, err
		}
		switch out.Status {
		case Appended:
			done = append(done, out.Appended...)
		case Duplicate:
			done = append(done, e.Seq)
		case Parked:
			return done, fmt.Errorf("eventlog: %s seq %d still parked behind published seq %d", e.ConversationID, e.Seq, out.Published)
		}
	}
	return done, nil
}

// fill appends the events between the published seq and e from Postgres,
// whether or not they were marked (a mark can outlive a Redis that lost the
// append), then offers e again. A seq missing from Postgres can only have
// been trimmed by retention (every seq below a committed one is committed):
// the guard is advanced past it.
func (r *Relay) fill(ctx context.Context, e Event, published int64) ([]int64, Outcome, error) {
	gap, err := r.st.between(ctx, e.ConversationID, published, e.Seq)
	if err != nil {
		return nil, Outcome{}, err
	}
	var appended []int64
	next := published + 1
	for _, g := range gap {
		if g.Seq != next {
			if err := r.guard.advance(ctx, e.ConversationID, g.Seq-1); err != nil {
				return appended, Outcome{}, err
			}
		}
		out, err := r.guard.Put(ctx, g)
		if err != nil {
			return appended, Outcome{}, err
		}
		appended = append(appended, out.Appended...)
		next = g.Seq + 1
	}
	if next != e.Seq {
		if err := r.guard.advance(ctx, e.ConversationID, e.Seq-1); err != nil {
			return appended, Outcome{}, err
		}
	}
	out, err := r.guard.Put(ctx, e)
	return appended, out, err
}
