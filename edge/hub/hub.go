package hub

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Hub holds the shards and routes published batches to all of them.
type Hub struct {
	interner Interner
	metrics  *metrics

	mu     sync.RWMutex
	shards []*Shard
}

// New returns a Hub registering its metrics on reg (nil for none).
func New(reg prometheus.Registerer) *Hub {
	return &Hub{metrics: newMetrics(reg)}
}

// NewShard adds a shard writing through out, whose tasks run through
// post, which must run each function on the shard's loop goroutine, in
// the order posted, and never block the caller; walk calls fn for every
// socket attached to the shard (the server keeps that list; fn may not
// change it).
func (h *Hub) NewShard(out Out, post func(func()), walk func(fn func(*Conn))) *Shard {
	s := &Shard{hub: h, out: out, post: post, walk: walk, topics: make(map[string]*topic)}
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
	for _, s := range shards {
		s.post(func() { s.Deliver(evs) })
	}
}

// Identifiers is the number of distinct identifiers in use.
func (h *Hub) Identifiers() int { return h.interner.Len() }
