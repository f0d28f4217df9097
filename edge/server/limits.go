package server

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// bucket is a token bucket small enough to live in every socket: tokens
// and the time of the last refill in milliseconds since the server
// started (which lasts 49 days per wrap; a wrap only refills early).
type bucket struct {
	tokens float32
	at     uint32
}

// take refills at rate per second up to burst and takes one token.
func (b *bucket) take(now uint32, rate, burst float32) bool {
	now |= 1 // 0 marks a bucket never used
	if b.at == 0 && b.tokens == 0 {
		b.tokens = burst
	} else if dt := now - b.at; dt > 0 {
		b.tokens = min(burst, b.tokens+float32(dt)*rate/1000)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// addrLimiter keeps, per client address, the handshake rate (a token
// bucket) and the sockets open (MaxSocketsPerAddr), for every loop (a
// connection's first and last moments take its lock). An address with no
// socket open whose bucket is full again is forgotten.
type addrLimiter struct {
	mu          sync.Mutex
	rate, burst float32
	maxOpen     int32
	start       time.Time
	m           map[netip.Addr]*addrState
	swept       time.Time
}

// addrState is one address's bucket and open sockets; each of those
// sockets points at it until it closes.
type addrState struct {
	b    bucket
	open int32
}

// Why admit refused.
const (
	admitted = iota
	overRate
	overCap
)

func newAddrLimiter(rate float64, burst, maxOpen int) *addrLimiter {
	return &addrLimiter{rate: float32(rate), burst: float32(burst), maxOpen: int32(maxOpen), start: time.Now(),
		m: make(map[netip.Addr]*addrState)}
}

// admit takes a handshake token and an open-socket place of address a, or
// tells which it lacks. The caller gives the place back with release when
// the socket closes.
func (l *addrLimiter) admit(a netip.Addr, now time.Time) (*addrState, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := uint32(now.Sub(l.start).Milliseconds())
	if now.Sub(l.swept) > time.Minute {
		full := uint32((float32(time.Second.Milliseconds()) * l.burst) / l.rate)
		for k, st := range l.m {
			if st.open == 0 && ms-st.b.at > full {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	st := l.m[a]
	if st == nil {
		st = &addrState{}
		l.m[a] = st
	}
	if st.open >= l.maxOpen {
		return nil, overCap
	}
	if !st.b.take(ms, l.rate, l.burst) {
		return nil, overRate
	}
	st.open++
	return st, admitted
}

// release gives back a socket's place.
func (l *addrLimiter) release(st *addrState) {
	l.mu.Lock()
	st.open--
	l.mu.Unlock()
}

// addrOf is the IP address of a connection's peer (the zero Addr for a
// non-TCP peer, which then shares one entry).
func addrOf(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// typingLimiter lets one typing event per user per conversation through
// per interval, across all of the node's sockets and loops.
type typingLimiter struct {
	interval time.Duration
	mu       sync.Mutex
	last     map[[2]id.ID]time.Time
	swept    time.Time
}

func newTypingLimiter(interval time.Duration) *typingLimiter {
	return &typingLimiter{interval: interval, last: make(map[[2]id.ID]time.Time)}
}

func (l *typingLimiter) allow(user, conv id.ID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > 10*l.interval+time.Second {
		for k, t := range l.last {
			if now.Sub(t) >= l.interval {
				delete(l.last, k)
			}
		}
		l.swept = now
	}
	k := [2]id.ID{user, conv}
	if t, ok := l.last[k]; ok && now.Sub(t) < l.interval {
		return false
	}
	l.last[k] = now
	return true
}
