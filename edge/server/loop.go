package server

import (
	"context"
	"sync"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
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

	// The welcomed sockets, in buckets by a hash of their session id: the
	// buckets are the loop's index by session (a revocation looks at one
	// bucket, 1/64 of the sockets) at no cost to an idle socket. A closed
	// socket leaves a nil in its slot, so no socket ever moves while the
	// ping cursor walks the buckets; a bucket is compacted when the cursor
	// leaves it. The cursor pings 1/N of the slots per tick, N ticks per
	// PingInterval, so pings go out in small slices (never one burst that
	// would hold deliveries back), each socket once per interval.
	buckets [][]*socket
	slots   int // slots in all buckets, nils included
	cursorB int // the bucket and slot the ping cursor is at
	cursorI int
	credit  int // slot-ticks carried to the next tick
	ticks   int // ticks per ping interval
	tick    int
	// pending are the sockets still in their handshake or authentication,
	// checked against their deadline every few ticks.
	pending []*socket

	hs        handshakeScratch
	scratch   []byte
	iov       []unix.Iovec
	inTraffic *socket
	ping      []byte
	pingSec   int64
	two       [2][]byte // scratch for a frame and a ping in one write
}

func newLoop(s *Server, el gnet.EventLoop) *loop {
	l := &loop{srv: s, el: el, buckets: make([][]*socket, sessionBuckets),
		ticks: max(1, int(s.cfg.PingInterval/tickEvery))}
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

// pingDue reports whether s should get a ping with the frames being written
// to it (and if so notes the ping): half an interval since its last one.
// The cursor then skips it this round, so the gap between two pings of a
// socket stays between half a PingInterval and one and a half (welcome
// counts as a ping); the official client calls a connection stale only
// after two intervals without one.
func (l *loop) pingDue(s *socket) bool {
	if uint32(l.tick)-s.pingedAt < uint32(l.ticks/2) {
		return false
	}
	s.pingedAt = uint32(l.tick)
	return true
}

// sessionBuckets is how many session buckets a loop has.
const sessionBuckets = 64

// open puts a socket that finished authenticating into its session's
// bucket.
func (l *loop) open(s *socket) {
	b := bucketOf(s.SID)
	s.list, s.pos = int16(b), int32(len(l.buckets[b]))
	l.buckets[b] = append(l.buckets[b], s)
	l.slots++
}

// bucketOf is session sid's bucket: a multiplicative hash, since ids are
// time-ordered and their low bits are a per-node sequence.
func bucketOf(sid id.ID) int {
	return int((uint64(sid) * 0x9E3779B97F4A7C15) >> (64 - 6))
}

// forget takes a closing socket out of the loop's lists: its bucket slot
// becomes nil (compacted later), or it is swapped out of the pending list,
// which is only ever walked backwards.
func (l *loop) forget(s *socket) {
	switch {
	case s.list >= 0:
		l.buckets[s.list][s.pos] = nil
	case s.list == listPending:
		last := len(l.pending) - 1
		moved := l.pending[last]
		l.pending[s.pos] = moved
		moved.pos = s.pos
		l.pending[last] = nil
		l.pending = l.pending[:last]
	}
	s.list = listNone
}

// compact drops the nils of bucket b.
func (l *loop) compact(b int) {
	list := l.buckets[b]
	n := 0
	for _, s := range list {
		if s != nil {
			s.pos = int32(n)
			list[n] = s
			n++
		}
	}
	clear(list[n:])
	l.slots -= len(list) - n
	switch {
	case n == 0:
		l.buckets[b] = nil
	case cap(list) > 64 && n < cap(list)/4:
		l.buckets[b] = append([]*socket(nil), list[:n]...)
	default:
		l.buckets[b] = list[:n]
	}
}

// onTick pings the next slice of sockets and, every half second, closes
// handshakes past their deadline.
func (l *loop) onTick(now time.Time) {
	l.tick++
	if sec := now.Unix(); sec != l.pingSec {
		l.pingSec = sec
		l.ping = cable.AppendPing(l.ping[:0], sec)
	}
	// Walk slots/ticks slots per tick (carrying the remainder), so the
	// cursor goes round every ticks ticks whatever the number of sockets.
	l.credit += l.slots
	walk := l.credit / l.ticks
	l.credit %= l.ticks
	for moves := 0; walk > 0 && moves <= len(l.buckets); {
		list := l.buckets[l.cursorB]
		if l.cursorI >= len(list) {
			l.compact(l.cursorB)
			l.cursorB, l.cursorI = (l.cursorB+1)%len(l.buckets), 0
			moves++
			continue
		}
		s := list[l.cursorI]
		l.cursorI++
		walk--
		moves = 0
		if s != nil && uint32(l.tick)-s.pingedAt >= uint32(l.ticks/2) {
			s.pingedAt = uint32(l.tick)
			s.Send(l.ping) // may close s: its slot turns nil, nothing moves
		}
	}
	if l.tick%50 == 0 {
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

// session calls fn for the welcomed sockets of sid's bucket, a superset of
// the loop's sockets of session sid (the hub's shard finds a revoked
// session's sockets there).
func (l *loop) session(sid id.ID, fn func(*hub.Conn)) {
	for _, s := range l.buckets[bucketOf(sid)] {
		if s != nil {
			fn(&s.Conn)
		}
	}
}

// sockets is every socket of the loop, open or not, for shutdown.
func (l *loop) sockets() []*socket {
	var out []*socket
	for _, b := range l.buckets {
		for _, s := range b {
			if s != nil {
				out = append(out, s)
			}
		}
	}
	return append(out, l.pending...)
}
