package eventlog

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Backlog exports the outbox at each scrape: how many committed events are
// not yet known to be on their stream, and how old the oldest is. It is
// the direct signal of the zero-loss promise: a backlog that ages past the
// relay's grace and interval means events are committed but not reaching
// clients. Its series are registered under the process's prefix (the
// caller wraps the registerer: chatterly_worker_outbox_events, …).
type Backlog struct {
	st    store
	now   func() time.Time
	count *prometheus.Desc
	age   *prometheus.Desc
}

// backlogTimeout bounds the scrape's query: a scrape must not hang on a
// Postgres that does not answer.
const backlogTimeout = 2 * time.Second

// NewBacklog returns the collector reading db (the primary).
func NewBacklog(db *pgxpool.Pool, now func() time.Time) *Backlog {
	return &Backlog{st: store{db}, now: now,
		count: prometheus.NewDesc("outbox_events",
			"Committed conversation events not yet known to be on their stream (the outbox).", nil, nil),
		age: prometheus.NewDesc("outbox_oldest_event_age_seconds",
			"Age of the oldest event in the outbox (0 when it is empty); the relay republishes events older than RELAY_GRACE.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (b *Backlog) Describe(ch chan<- *prometheus.Desc) { ch <- b.count; ch <- b.age }

// Collect implements prometheus.Collector. When Postgres does not answer
// the scrape has neither series (the worker-down and readiness signals
// cover that case); it never fails the whole scrape.
func (b *Backlog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	n, oldest, err := b.st.backlog(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if n > 0 {
		age = max(0, b.now().Sub(oldest.Time()).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(b.count, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(b.age, prometheus.GaugeValue, age)
}
