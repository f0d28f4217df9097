package eventlog

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Publisher appends events right after their transaction commits, and marks
// in Postgres, in batches, the ones that reached the stream.
//
// It never fails the request whose events it publishes: the change is
// committed, and an event it cannot append (Redis down, timeout, process
// killed) stays unmarked in Postgres, where the relay finds it. Marks are
// written asynchronously: a lost mark costs the relay one duplicate-checked
// republish, never an event.
type Publisher struct {
	sink    Sink
	st      store
	log     *slog.Logger
	timeout time.Duration
	marks   chan mark

	outcomes *prometheus.CounterVec
	// lastWarn throttles the failure warning to one per warnEvery: with
	// Redis down every write would log one.
	lastWarn   atomic.Int64
	suppressed atomic.Int64
}

type mark struct{ conv, seq int64 }

// markBuffer bounds the marks waiting for a flush; when it is full a mark
// is dropped and the relay marks that event after its grace period.
const markBuffer = 8192

// warnEvery is the most often a failing publisher warns.
const warnEvery = 10 * time.Second

// NewPublisher returns a Publisher appending through sink and marking in
// db, giving each Publish call at most timeout. Run must be running for
// marks to be written. Metrics go to reg when it is not nil, under the
// process's prefix (the caller wraps reg: chatterly_api_events_published_total
// in the api, chatterly_worker_… in the worker).
func NewPublisher(sink Sink, db *pgxpool.Pool, log *slog.Logger, timeout time.Duration, reg prometheus.Registerer) *Publisher {
	p := &Publisher{sink: sink, st: store{db}, log: log, timeout: timeout, marks: make(chan mark, markBuffer),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_published_total",
			Help: "Conversation events offered to the stream right after commit, by outcome (appended, duplicate, parked, failed).",
		}, []string{"outcome"})}
	for _, o := range []string{"appended", "duplicate", "parked", "failed"} {
		p.outcomes.WithLabelValues(o) // every outcome's series exists from the start, at 0
	}
	if reg != nil {
		reg.MustRegister(p.outcomes)
	}
	return p
}

// Publish appends evs, which must be in seq order per conversation, and
// returns when each has been offered once. ctx's cancellation does not cut
// it short (the client hanging up must not strand a committed event); the
// timeout does.
func (p *Publisher) Publish(ctx context.Context, evs ...Event) {
	if len(evs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	for _, e := range evs {
		out, err := p.sink.Put(ctx, e)
		if err != nil {
			p.outcomes.WithLabelValues("failed").Inc()
			p.warn(ctx, e, err)
			continue
		}
		switch out.Status {
		case Appended:
			p.outcomes.WithLabelValues("appended").Inc()
		case Duplicate:
			p.outcomes.WithLabelValues("duplicate").Inc()
			out.Appended = []int64{e.Seq}
		case Parked:
			// Its predecessor's publisher, or the relay, will append it.
			p.outcomes.WithLabelValues("parked").Inc()
		}
		for _, s := range out.Appended {
			select {
			case p.marks <- mark{int64(e.ConversationID), s}:
			default:
			}
		}
	}
}

func (p *Publisher) warn(ctx context.Context, e Event, err error) {
	now := time.Now().UnixNano()
	last := p.lastWarn.Load()
	if now-last < int64(warnEvery) || !p.lastWarn.CompareAndSwap(last, now) {
		p.suppressed.Add(1)
		return
	}
	p.log.WarnContext(ctx, "event not published; the relay will retry it",
		"conversation_id", e.ConversationID.String(), "seq", e.Seq, "err", err,
		"suppressed", p.suppressed.Swap(0))
}

// markFlush is how long a mark may wait for companions before it is written.
const markFlush = 50 * time.Millisecond

// Run writes marks in batches until ctx ends, then writes what is left.
func (p *Publisher) Run(ctx context.Context) {
	t := time.NewTicker(markFlush)
	defer t.Stop()
	var convs, seqs []int64
	flush := func(ctx context.Context) {
		if len(convs) == 0 {
			return
		}
		if err := p.st.mark(ctx, convs, seqs); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "marking published events failed; the relay will mark them", "events", len(convs), "err", err)
		}
		convs, seqs = convs[:0], seqs[:0]
	}
	for {
		select {
		case m := <-p.marks:
			convs, seqs = append(convs, m.conv), append(seqs, m.seq)
			if len(convs) >= 512 {
				flush(ctx)
			}
		case <-t.C:
			flush(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			for {
				select {
				case m := <-p.marks:
					convs, seqs = append(convs, m.conv), append(seqs, m.seq)
				default:
					flush(fctx)
					return
				}
			}
		}
	}
}
