package server

import (
	"net"
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

// addrLimiter is the per-address handshake rate, shared by the event
// loops (a connection's first moment takes its lock); idle addresses are
// forgotten.
type addrLimiter struct {
	mu          sync.Mutex
	rate, burst float32
	start       time.Time
	m           map[[16]byte]*bucket
	swept       time.Time
}

func newAddrLimiter(rate float64, burst int) *addrLimiter {
	return &addrLimiter{rate: float32(rate), burst: float32(burst), start: time.Now(), m: make(map[[16]byte]*bucket)}
}

func (l *addrLimiter) allow(addr net.Addr, now time.Time) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return true
	}
	var key [16]byte
	copy(key[:], tcp.IP.To16())
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := uint32(now.Sub(l.start).Milliseconds())
	if now.Sub(l.swept) > time.Minute {
		full := uint32((float32(time.Second.Milliseconds()) * l.burst) / l.rate)
		for k, b := range l.m {
			if ms-b.at > full {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	b := l.m[key]
	if b == nil {
		b = &bucket{}
		l.m[key] = b
	}
	return b.take(ms, l.rate, l.burst)
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
