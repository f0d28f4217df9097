// Package stream is the edge's Redis Streams consumer: it reads every
// shard stream with blocking, batched XREADs and publishes each batch of
// entries, in stream order, to the hub.
//
// The consumer is plain XREAD, not a consumer group: every edge node needs
// every event for its own sockets, and nothing is acknowledged, because a
// lost live event is recovered by the client from the conversation's log
// (see DESIGN.md, recovery path). It starts at the streams' current ends
// and, when Redis goes away, keeps its position and resumes from it once
// Redis answers again, so events appended meanwhile (and not yet trimmed)
// are still delivered.
package stream

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// Sink receives batches of events; Publish must not block for long (the
// hub posts one task per event loop and returns). Wait blocks while more
// than max deliveries are pending, which is the consumer's backpressure.
type Sink interface {
	Publish(evs []*hub.Event)
	Wait(ctx context.Context, max int64)
}

// Config tunes a Consumer.
type Config struct {
	// Readers is how many XREAD loops share the shard streams. One reads
	// them all in a single command; a Redis Cluster, whose shard streams
	// live on different nodes, needs one per shard.
	Readers int
	// Count bounds the entries one XREAD returns per stream.
	Count int
	// Block is how long one XREAD waits for new entries.
	Block time.Duration
	// MaxBacklog bounds the deliveries published and not yet done; past
	// it the reader waits, and the burst waits in Redis instead of memory.
	MaxBacklog int64
}

// Consumer reads the shard streams of one key space.
type Consumer struct {
	rdb  rueidis.Client
	keys rkey.Space
	sink Sink
	log  *slog.Logger
	cfg  Config
	m    *metrics

	healthy []atomic.Bool
}

// New returns a Consumer publishing to sink.
func New(rdb rueidis.Client, keys rkey.Space, sink Sink, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Consumer {
	if cfg.Readers < 1 {
		cfg.Readers = 1
	}
	if cfg.Readers > keys.Shards {
		cfg.Readers = keys.Shards
	}
	if cfg.Count < 1 {
		cfg.Count = 1000
	}
	if cfg.Block <= 0 {
		cfg.Block = time.Second
	}
	if cfg.MaxBacklog <= 0 {
		cfg.MaxBacklog = 20_000
	}
	return &Consumer{rdb: rdb, keys: keys, sink: sink, log: log, cfg: cfg, m: newMetrics(reg),
		healthy: make([]atomic.Bool, cfg.Readers)}
}

// Ready reports whether every reader's last XREAD succeeded.
func (c *Consumer) Ready() bool {
	for i := range c.healthy {
		if !c.healthy[i].Load() {
			return false
		}
	}
	return true
}

// Run consumes until ctx ends. It returns nil on cancellation; Redis
// errors are retried, never returned.
func (c *Consumer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for r := 0; r < c.cfg.Readers; r++ {
		var streams []string
		for s := r; s < c.keys.Shards; s += c.cfg.Readers {
			streams = append(streams, c.keys.Stream(s))
		}
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			c.read(ctx, r, streams)
		}(r)
	}
	wg.Wait()
	return nil
}

// readSlack is how much longer than its Block an XREAD may take. Without
// a deadline, a Redis that stops answering (a hung or unreachable host)
// would hold the reader forever, unnoticed: rueidis retries a read on a
// broken connection until its context ends. With it the reader fails,
// reports not ready, and tries again.
const readSlack = 2 * time.Second

// read is one reader's loop over its streams.
func (c *Consumer) read(ctx context.Context, reader int, streams []string) {
	ids := make([]string, len(streams))
	backoff := newBackoff()
	for ctx.Err() == nil {
		if err := c.start(ctx, streams, ids); err != nil {
			c.fail(ctx, reader, err, backoff)
			continue
		}
		break
	}
	for ctx.Err() == nil {
		c.sink.Wait(ctx, c.cfg.MaxBacklog)
		cmd := c.rdb.B().Xread().Count(int64(c.cfg.Count)).Block(c.cfg.Block.Milliseconds()).
			Streams().Key(streams...).Id(ids...).Build()
		rctx, cancel := context.WithTimeout(ctx, c.cfg.Block+readSlack)
		res, err := c.rdb.Do(rctx, cmd).AsXRead()
		cancel()
		if err != nil && !rueidis.IsRedisNil(err) {
			c.fail(ctx, reader, err, backoff)
			continue
		}
		backoff.reset()
		if !c.healthy[reader].Swap(true) {
			c.log.Info("consuming streams", "reader", reader, "streams", len(streams))
		}
		if len(res) == 0 {
			c.m.lag.Set(0)
			continue
		}
		c.publish(streams, ids, res)
	}
}

// start positions the reader at the current end of each stream, so a new
// edge delivers what is appended from now on.
func (c *Consumer) start(ctx context.Context, streams, ids []string) error {
	for i, s := range streams {
		if ids[i] != "" {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, readSlack)
		entries, err := c.rdb.Do(rctx, c.rdb.B().Xrevrange().Key(s).End("+").Start("-").Count(1).Build()).AsXRange()
		cancel()
		if err != nil {
			return err
		}
		ids[i] = "0-0"
		if len(entries) > 0 {
			ids[i] = entries[0].ID
		}
	}
	return nil
}

func (c *Consumer) publish(streams, ids []string, res map[string][]rueidis.XRangeEntry) {
	var evs []*hub.Event
	var newest time.Time
	for i, s := range streams {
		entries := res[s]
		if len(entries) == 0 {
			continue
		}
		ids[i] = entries[len(entries)-1].ID
		for _, e := range entries {
			entry, err := event.DecodeEntry(e.FieldValues)
			var ev *hub.Event
			if err == nil {
				ev, err = hub.NewEvent(entry.Topic, entry.Envelope, e.ID)
			}
			if err != nil {
				c.m.bad.Inc()
				c.log.Debug("skipping stream entry", "stream", s, "entry_id", e.ID, "err", err)
				continue
			}
			evs = append(evs, ev)
			if ev.Time.After(newest) {
				newest = ev.Time
			}
		}
	}
	c.m.consumed.Add(float64(len(evs)))
	if !newest.IsZero() {
		c.m.lag.Set(time.Since(newest).Seconds())
	}
	c.sink.Publish(evs)
}

// fail marks the reader unhealthy and waits before the next try. Errors
// are logged on the first failure and then at most every 30 s.
func (c *Consumer) fail(ctx context.Context, reader int, err error, b *backoff) {
	if ctx.Err() != nil {
		return
	}
	c.m.errors.Inc()
	if c.healthy[reader].Swap(false) || b.shouldLog() {
		c.log.Warn("stream read failed; retrying", "reader", reader, "err", err)
	}
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff doubles from 50 ms to 2 s between failed reads.
type backoff struct {
	d       time.Duration
	lastLog time.Time
}

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) next() time.Duration {
	switch {
	case b.d == 0:
		b.d = 50 * time.Millisecond
	case b.d < 2*time.Second:
		b.d *= 2
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

func (b *backoff) shouldLog() bool {
	if time.Since(b.lastLog) < 30*time.Second {
		return false
	}
	b.lastLog = time.Now()
	return true
}
