package server

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/panjf2000/gnet/v2"
	"github.com/stretchr/testify/require"
)

// fakeConn is the part of a gnet connection the ping path uses; it notes
// the tick of every ping.
type fakeConn struct {
	gnet.Conn
	tick  *int
	pings []int
}

func (c *fakeConn) OutboundBuffered() int { return 0 }

// Fd is no descriptor: the raw write fails and the ping goes through Write.
func (c *fakeConn) Fd() int { return -1 }

func (c *fakeConn) Write(p []byte) (int, error) {
	c.pings = append(c.pings, *c.tick)
	return len(p), nil
}

// TestPingsReachEverySocketOncePerInterval: sockets come and go (some
// closing in the middle of a ping round), in buckets of very uneven sizes,
// and every socket still open is pinged once per interval (60 ticks), a
// slice of them per tick.
func TestPingsReachEverySocketOncePerInterval(t *testing.T) {
	t.Parallel()
	srv := &Server{cfg: Config{PingInterval: 3 * time.Second, MaxOutboundBytes: 1 << 20}, m: newMetrics(nil)}
	l := &loop{srv: srv, buckets: make([][]*socket, sessionBuckets), ticks: 60}
	l.shard = hub.New(nil).NewShard(l, func(fn func()) { fn() }, l.session)
	var socks []*socket
	var conns []*fakeConn
	tick := 0
	add := func() {
		fc := &fakeConn{tick: &tick}
		s := &socket{gc: fc, l: l, state: stOpen}
		s.Init(id.ID(rand.Int64N(1e12)+1), id.ID(rand.Int64N(50)+1)) // few sessions: uneven buckets
		l.shard.Attach(&s.Conn)
		l.open(s)
		socks, conns = append(socks, s), append(conns, fc)
	}
	for i := 0; i < 3000; i++ {
		add()
	}
	now := time.Now()
	for tick = 1; tick <= 400; tick++ {
		now = now.Add(tickEvery)
		l.onTick(now)
		if tick%7 == 3 { // churn
			if victim := socks[rand.IntN(len(socks))]; !victim.closed {
				victim.closed = true
				l.forget(victim)
			}
			add()
		}
	}
	for i, c := range conns {
		if socks[i].closed || len(c.pings) < 2 {
			continue
		}
		for j := 1; j < len(c.pings); j++ {
			gap := c.pings[j] - c.pings[j-1]
			require.GreaterOrEqual(t, gap, 55, "socket %d pinged too often", i)
			require.LessOrEqual(t, gap, 63, "socket %d waited %d ticks (the client calls 6 s of silence stale)", i, gap)
		}
	}
	for i, c := range conns[:2900] {
		if !socks[i].closed {
			require.GreaterOrEqual(t, len(c.pings), 6, "socket %d pinged %d times in 400 ticks", i, len(c.pings))
		}
	}
	// The session index finds a session's sockets.
	sid := socks[0].SID
	var found int
	l.session(sid, func(c *hub.Conn) {
		if c.SID == sid {
			found++
		}
	})
	want := 0
	for _, s := range socks {
		if s.SID == sid && !s.closed {
			want++
		}
	}
	require.Equal(t, want, found)
}
