package sockets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
)

// rec is one applied bench event.
type rec struct {
	phase uint16
	sub   uint16
	k     uint32
	lat   int64
}

// sub is one subscription's client state, owned by the socket's goroutine.
type sub struct {
	conv int64
	// subscribe is the subscribe command, rendered once: a socket sends
	// it on every (re)connect.
	subscribe []byte
	last      int64
	confirmed bool
}

// socket is one connection and its client state. Its read loop owns the
// connection and subs; mu guards recs and the counters a report reads.
type socket struct {
	g    *Group
	spec Spec
	subs []sub

	mu         sync.Mutex
	recs       []rec
	perPhase   map[uint16]int64 // len of recs by phase, for cheap counting
	dups       int64
	open       bool
	subscribed int
	reconnects int64

	nc    net.Conn
	buf   []byte // unread bytes from the connection
	ready chan error
	wbuf  []byte
}

func newSocket(g *Group, spec Spec) *socket {
	s := &socket{g: g, spec: spec, subs: make([]sub, len(spec.Subs))}
	for i, sp := range spec.Subs {
		ident := cable.Identifier("ConversationChannel", "id", strconv.FormatInt(sp.Conv, 10))
		s.subs[i] = sub{conv: sp.Conv, last: sp.From, subscribe: cable.Command("subscribe", ident, "")}
	}
	return s
}

// errRejected is a subscription the edge refused.
var errRejected = errors.New("subscription rejected")

// connect dials, upgrades and runs the socket until every subscription is
// confirmed; the read loop then goes on in its own goroutine.
func (s *socket) connect(ctx context.Context) error {
	if err := s.dial(ctx); err != nil {
		return err
	}
	s.ready = make(chan error, 1)
	go s.run()
	select {
	case err := <-s.ready:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return errors.New("no welcome and confirmations within 30 s")
	}
}

// dial opens the connection and completes the HTTP upgrade (loadtest/cable);
// bytes read past the response head stay in s.buf.
func (s *socket) dial(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := cable.Dial(ctx, cable.Request{Addr: s.g.job.Edges[s.spec.Edge], Token: s.spec.Token})
	if err != nil {
		return err
	}
	nc, rest := c.Detach()
	s.buf = rest
	s.mu.Lock()
	s.nc, s.open = nc, true
	s.mu.Unlock()
	return nil
}

// run reads until the connection ends, then reconnects when the job
// recovers, until the group closes.
func (s *socket) run() {
	for {
		err := s.readLoop()
		s.nc.Close()
		s.mu.Lock()
		s.open, s.subscribed = false, 0
		s.mu.Unlock()
		for i := range s.subs {
			s.subs[i].confirmed = false
		}
		if s.ready != nil {
			s.signal(fmt.Errorf("closed before ready: %w", err))
		}
		if !s.g.job.Recover || s.g.closed.Load() {
			return
		}
		for attempt := 0; ; attempt++ {
			if !s.g.sleep(backoff(attempt)) {
				return
			}
			if s.dial(context.Background()) == nil {
				break
			}
		}
		s.mu.Lock()
		s.reconnects++
		s.mu.Unlock()
	}
}

// backoff is the wait before reconnect attempt n: 50 ms doubling to 1 s,
// with full jitter so thousands of sockets do not retry in step.
func backoff(n int) time.Duration {
	d := 50 * time.Millisecond << min(n, 5)
	d = min(d, time.Second)
	return time.Duration(rand.Int64N(int64(d))) + 10*time.Millisecond
}

func (s *socket) signal(err error) {
	select {
	case s.ready <- err:
	default:
	}
}

// readLoop reads frames and handles them until the connection fails.
func (s *socket) readLoop() error {
	// Frames here are small (events, pings, confirmations); a bigger one
	// just takes several reads. The buffer lives as long as the socket.
	rb := make([]byte, 2048)
	for {
		for {
			op, _, payload, n, err := cable.ParseServerFrame(s.buf)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			if err := s.onFrame(op, payload); err != nil {
				return err
			}
			s.buf = s.buf[n:]
		}
		// Keep the partial frame at the front, then read more.
		if len(s.buf) > 0 && cap(s.buf)-len(s.buf) < 1024 {
			s.buf = append(make([]byte, 0, max(2*len(s.buf), 8192)), s.buf...)
		}
		n, err := s.nc.Read(rb)
		if err != nil {
			return err
		}
		s.buf = append(s.buf, rb[:n]...)
	}
}

func (s *socket) onFrame(op byte, payload []byte) error {
	switch op {
	case cable.OpClose:
		return errors.New("close frame")
	case cable.OpPing:
		return s.write(cable.OpPong, payload)
	case cable.OpText:
	default:
		return nil
	}
	switch classify(payload) {
	case kindEvent:
		s.onEvent(envelopeOf(payload), time.Now())
	case kindWelcome:
		if len(s.subs) == 0 {
			s.signal(nil) // authenticated, nothing to subscribe: ready
		}
		for _, sb := range s.subs {
			if err := s.write(cable.OpText, sb.subscribe); err != nil {
				return err
			}
		}
	case kindConfirm:
		return s.onConfirm(identConv(payload))
	case kindReject:
		s.g.rejected.Add(1)
		s.signal(errRejected)
	case kindDisconnect:
		s.g.disconnect(payload)
	}
	return nil
}

func (s *socket) write(op byte, payload []byte) error {
	s.wbuf = cable.AppendClientFrame(s.wbuf[:0], op, payload)
	_, err := s.nc.Write(s.wbuf)
	return err
}

// onConfirm marks a subscription live. After a reconnect the client then
// fetches what it missed, before it applies newer live events.
func (s *socket) onConfirm(conv int64) error {
	i := s.subIndex(conv)
	if i < 0 || s.subs[i].confirmed {
		return nil // a repeated confirmation is harmless
	}
	s.subs[i].confirmed = true
	s.mu.Lock()
	s.subscribed++
	all := s.subscribed == len(s.subs)
	reconnected := s.reconnects > 0
	s.mu.Unlock()
	if reconnected {
		s.fetch(i, time.Now())
	}
	if all {
		s.signal(nil)
	}
	return nil
}

func (s *socket) subIndex(conv int64) int {
	for i := range s.subs {
		if s.subs[i].conv == conv {
			return i
		}
	}
	return -1
}

// onEvent applies one event as a client does: drop a seq already applied,
// fetch the missing ones on a gap, then apply.
func (s *socket) onEvent(env []byte, now time.Time) {
	conv, seq, tg := parseEnvelope(env)
	i := s.subIndex(conv)
	if i < 0 {
		return
	}
	sb := &s.subs[i]
	if seq > 0 {
		if seq <= sb.last {
			s.mu.Lock()
			s.dups++
			s.mu.Unlock()
			return
		}
		if seq > sb.last+1 && s.g.job.Recover {
			s.fetch(i, now)
			if seq <= sb.last {
				return // the fetch brought it; this copy is a duplicate the client drops
			}
		}
		sb.last = seq
	}
	if tg.ok {
		s.record(i, tg, now)
	}
}

func (s *socket) record(i int, tg tag, now time.Time) {
	s.mu.Lock()
	s.recs = append(s.recs, rec{phase: tg.phase, sub: uint16(i), k: tg.k, lat: now.UnixNano() - tg.sent})
	if s.perPhase == nil {
		s.perPhase = map[uint16]int64{}
	}
	s.perPhase[tg.phase]++
	s.mu.Unlock()
}

// fetch asks the api for the events of sub i after its last seq, page by
// page, and applies them. It retries while the api or Postgres is away
// (the fault scenarios restart them), up to a minute.
func (s *socket) fetch(i int, _ time.Time) {
	sb := &s.subs[i]
	s.g.fetches.Add(1)
	deadline := time.Now().Add(time.Minute)
	for attempt := 0; ; {
		items, more, err := s.g.replay(sb.conv, sb.last, s.spec.Token)
		if err == nil {
			now := time.Now()
			for _, env := range items {
				_, seq, tg := parseEnvelope(env)
				if seq != sb.last+1 {
					continue // the page starts after last, in order; anything else is not ours to apply
				}
				sb.last = seq
				if tg.ok {
					s.record(i, tg, now)
				}
			}
			if !more {
				return
			}
			continue
		}
		if errors.Is(err, errResync) {
			s.g.resyncs.Add(1)
			return
		}
		s.g.fetchErrs.Add(1)
		if time.Now().After(deadline) || !s.g.sleep(backoff(attempt)) {
			return
		}
		attempt++
	}
}
