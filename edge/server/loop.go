package server

import (
	"context"
	"sync"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/edge/hub"
	"github.com/panjf2000/gnet/v2"
)

// loop is the edge's state for one gnet event loop. Its fields below the
// queue are touched only on the loop's goroutine.
type loop struct {
	srv   *Server
	el    gnet.EventLoop
	shard *hub.Shard
	run   gnet.Runnable

	// The task queue. gnet runs an Execute'd task on the loop, but tasks
	// posted while its urgent queue is long can overtake earlier ones; so
	// the edge keeps its own FIFO and asks gnet for one drain at a time.
	mu        sync.Mutex
	queue     []func()
	scheduled bool
	spare     []func()

	// Open sockets, spread over buckets that are pinged one per tick, so a
	// ping round is written in slices instead of one burst that would
	// delay deliveries behind it.
	buckets    [][]*socket
	nextBucket int
	tick       int
	// pending are the sockets still in their handshake or authentication,
	// checked against their deadline every few ticks.
	pending []*socket

	hs        handshakeScratch
	scratch   []byte
	inTraffic *socket
	ping      []byte
	pingSec   int64
}

func newLoop(s *Server, el gnet.EventLoop) *loop {
	n := int(s.cfg.PingInterval / tickEvery)
	l := &loop{srv: s, el: el, buckets: make([][]*socket, max(1, n))}
	l.run = gnet.RunnableFunc(func(context.Context) error { l.drain(); return nil })
	l.hs.init(l)
	return l
}

// post runs fn on the loop after everything posted before it. It never
// blocks on the loop.
func (l *loop) post(fn func()) {
	l.mu.Lock()
	l.queue = append(l.queue, fn)
	kick := !l.scheduled
	l.scheduled = true
	l.mu.Unlock()
	if kick {
		if err := l.el.Execute(context.Background(), l.run); err != nil {
			// The engine is shutting down: nothing will run again.
			l.mu.Lock()
			l.queue, l.scheduled = nil, false
			l.mu.Unlock()
		}
	}
}

func (l *loop) drain() {
	l.mu.Lock()
	q := l.queue
	l.queue = l.spare[:0]
	l.scheduled = false
	l.mu.Unlock()
	for i, fn := range q {
		fn()
		q[i] = nil
	}
	l.spare = q[:0]
}

// open puts a socket that finished authenticating into a ping bucket.
func (l *loop) open(s *socket) {
	b := l.nextBucket
	l.nextBucket = (l.nextBucket + 1) % len(l.buckets)
	s.list, s.pos = int16(b), int32(len(l.buckets[b]))
	l.buckets[b] = append(l.buckets[b], s)
}

// forget removes a closing socket from the loop's lists. Both lists are
// only ever walked backwards, so a swap-removal during a walk is safe.
func (l *loop) forget(s *socket) {
	var list *[]*socket
	switch {
	case s.list >= 0:
		list = &l.buckets[s.list]
	case s.list == listPending:
		list = &l.pending
	default:
		return
	}
	last := len(*list) - 1
	moved := (*list)[last]
	(*list)[s.pos] = moved
	moved.pos = s.pos
	(*list)[last] = nil
	*list = (*list)[:last]
	s.list = listNone
}

// onTick pings one bucket and, every half second, closes handshakes past
// their deadline.
func (l *loop) onTick(now time.Time) {
	l.tick++
	if sec := now.Unix(); sec != l.pingSec {
		l.pingSec = sec
		l.ping = cable.AppendPing(l.ping[:0], sec)
	}
	k := l.tick % len(l.buckets)
	for i := len(l.buckets[k]) - 1; i >= 0; i-- {
		if b := l.buckets[k]; i < len(b) {
			b[i].Send(l.ping) // may close b[i], which swaps in the (visited) last
		}
	}
	if l.tick%10 == 0 {
		for i := len(l.pending) - 1; i >= 0; i-- {
			if i >= len(l.pending) {
				continue
			}
			if s := l.pending[i]; s.aux != nil && now.After(s.aux.deadline) {
				l.srv.m.handshake(hsTimeout)
				s.close()
			}
		}
	}
}

// walk calls fn for every welcomed socket of the loop (the hub's shard
// walks them to find a revoked session's sockets).
func (l *loop) walk(fn func(*hub.Conn)) {
	for _, b := range l.buckets {
		for _, s := range b {
			fn(&s.Conn)
		}
	}
}

// sockets is every socket of the loop, open or not, for shutdown.
func (l *loop) sockets() []*socket {
	var out []*socket
	for _, b := range l.buckets {
		out = append(out, b...)
	}
	return append(out, l.pending...)
}
