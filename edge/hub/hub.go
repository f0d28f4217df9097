package hub

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/prometheus/client_golang/prometheus"
)

// Hub holds the shards and routes published batches to all of them.
type Hub struct {
	interner Interner
	metrics  *metrics

	mu     sync.RWMutex
	shards []*Shard

	// backlog counts events published to a shard and not yet delivered
	// there; drained wakes a publisher waiting in Wait.
	backlog atomic.Int64
	waiting atomic.Bool
	drained chan struct{}
}

// New returns a Hub registering its metrics on reg (nil for none).
func New(reg prometheus.Registerer) *Hub {
	return &Hub{metrics: newMetrics(reg), drained: make(chan struct{}, 1)}
}

// NewShard adds a shard writing through out, whose tasks run through
// post, which must run each function on the shard's loop goroutine, in
// the order posted, and never block the caller. session is the server's
// index of the loop's sockets by session: it calls fn for every attached
// socket that may be of session sid (at least all that are; fn checks,
// and may not change the index).
func (h *Hub) NewShard(out Out, post func(func()), session func(sid id.ID, fn func(*Conn))) *Shard {
	s := &Shard{hub: h, out: out, post: post, session: session, topics: make(map[string]*topic)}
	h.mu.Lock()
	h.shards = append(h.shards, s)
	h.mu.Unlock()
	return s
}

// Publish hands a batch of events, in stream order, to every shard: one
// task per shard. Batches published by one goroutine reach each shard in
// the order published. evs must not be changed afterwards.
func (h *Hub) Publish(evs []*Event) {
	if len(evs) == 0 {
		return
	}
	h.mu.RLock()
	shards := h.shards
	h.mu.RUnlock()
	h.backlog.Add(int64(len(evs) * len(shards)))
	for _, s := range shards {
		s.post(func() {
			s.Deliver(evs)
			h.delivered(len(evs))
		})
	}
}

// Backlog is the number of (event, shard) deliveries published and not
// yet done.
func (h *Hub) Backlog() int64 { return h.backlog.Load() }

// Wait blocks until the backlog is at most max (or ctx ends). A publisher
// calls it before reading more, so a burst the loops cannot keep up with
// waits in Redis instead of in the edge's memory, and comes back in bigger
// batches.
func (h *Hub) Wait(ctx context.Context, max int64) {
	for h.backlog.Load() > max {
		h.waiting.Store(true)
		if h.backlog.Load() <= max { // delivered between the check and the flag
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.drained:
		}
	}
}

func (h *Hub) delivered(n int) {
	h.backlog.Add(-int64(n))
	if h.waiting.Load() && h.waiting.CompareAndSwap(true, false) {
		select {
		case h.drained <- struct{}{}:
		default:
		}
	}
}

// Identifiers is the number of distinct identifiers in use.
func (h *Hub) Identifiers() int { return h.interner.Len() }
