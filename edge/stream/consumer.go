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
	// Readers is the least number of XREAD loops sharing the shard
	// streams (EDGE_STREAM_READERS; 0 or 1: as few as possible). One XREAD
	// may only name keys of one hash slot on a Redis Cluster, so there the
	// streams are grouped by slot and each group gets a reader of its own
	// (with the shard streams' hash tags, one per shard); on one Redis they
	// form one group, read in a single command. More readers than groups
	// split the largest groups.
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

	// plan is each reader's streams.
	plan    [][]string
	healthy []atomic.Bool
}

// New returns a Consumer publishing to sink.
func New(rdb rueidis.Client, keys rkey.Space, sink Sink, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Consumer {
	if cfg.Count < 1 {
		cfg.Count = 1000
	}
	if cfg.Block <= 0 {
		cfg.Block = time.Second
	}
	if cfg.MaxBacklog <= 0 {
		cfg.MaxBacklog = 20_000
	}
	plan := Plan(keys.Streams(), slotOf(rdb), cfg.Readers)
	return &Consumer{rdb: rdb, keys: keys, sink: sink, log: log, cfg: cfg, m: newMetrics(reg),
		plan: plan, healthy: make([]atomic.Bool, len(plan))}
}

// Readers is how many XREAD loops Run runs.
func (c *Consumer) Readers() int { return len(c.plan) }

// slotOf returns how rdb places keys: by hash slot on a Redis Cluster,
// all in one place (nil) otherwise.
func slotOf(rdb rueidis.Client) func(key string) uint16 {
	if rdb.Mode() != rueidis.ClientModeCluster {
		return nil
	}
	return func(key string) uint16 {
		cmd := rdb.B().Xlen().Key(key).Build()
		return cmd.Slot()
	}
}

// Plan splits streams into at least readers groups (at least one) such
// that each group's streams share a slot (slot nil: any streams may share a
// group). Streams are first grouped by slot, in order of first appearance;
// while there are fewer groups than readers, the largest group is dealt
// round-robin into as many parts as are still wanted, so one Redis and
// readers n gives each reader every n-th stream. A group is by slot, not
// by node, so a reshard that moves slots between masters keeps it valid.
func Plan(streams []string, slot func(string) uint16, readers int) [][]string {
	var groups [][]string
	if slot == nil {
		groups = [][]string{append([]string(nil), streams...)}
	} else {
		at := map[uint16]int{}
		for _, s := range streams {
			k := slot(s)
			i, ok := at[k]
			if !ok {
				i = len(groups)
				at[k] = i
				groups = append(groups, nil)
			}
			groups[i] = append(groups[i], s)
		}
	}
	for len(groups) < readers {
		big := 0
		for i, g := range groups {
			if len(g) > len(groups[big]) {
				big = i
			}
		}
		g := groups[big]
		if len(g) < 2 {
			break
		}
		parts := min(len(g), readers-len(groups)+1)
		split := make([][]string, parts)
		for j, s := range g {
			split[j%parts] = append(split[j%parts], s)
		}
		groups = append(append(groups[:big:big], split...), groups[big+1:]...)
	}
	return groups
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
	c.log.Info("reading shard streams", "readers", len(c.plan), "shards", c.keys.Shards,
		"cluster", c.rdb.Mode() == rueidis.ClientModeCluster)
	var wg sync.WaitGroup
	for r, streams := range c.plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.read(ctx, r, streams)
		}()
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
	now := time.Now()
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
			if !ev.Time.IsZero() {
				c.m.readLag.Observe(now.Sub(ev.Time).Seconds())
			}
			if ev.Time.After(newest) {
				newest = ev.Time
			}
		}
	}
	c.m.consumed.Add(float64(len(evs)))
	if !newest.IsZero() {
		c.m.lag.Set(now.Sub(newest).Seconds())
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
