package message_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/stretchr/testify/require"
)

// proxy forwards loopback TCP to Redis and can cut it: while down it
// closes every connection and refuses new ones, as a stopped Redis would.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

func TestNoEventIsLostWhenStreamsRedisIsDownBetweenCommitAndXADD(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(redistest.URL(t))
	require.NoError(t, err)
	px := newProxy(t, u.Host)
	streams := *u
	streams.Host = px.ln.Addr().String()
	s := apitest.Start(t, map[string]string{
		"REDIS_STREAMS_URL": streams.String(),
		"PUBLISH_TIMEOUT":   "300ms",
	})
	startRelay(t, s)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob) // seqs 1, 2
	convtest.Send(t, s, ann, g.ID, "before")           // seq 3
	convtest.WaitSeqs(t, s, g.ID, 3)

	// The streams Redis goes away: writes still commit and answer 201;
	// their events cannot be appended.
	px.setDown(true)
	for range 5 {
		convtest.Send(t, s, bob, g.ID, "while down") // seqs 4..8
	}
	require.Equal(t, []int64{1, 2, 3}, convtest.Seqs(t, s, g.ID))

	// Back up: the relay appends every committed event, in order, once.
	px.setDown(false)
	convtest.Send(t, s, ann, g.ID, "after") // seq 9, parked until 4..8 land
	convtest.WaitSeqs(t, s, g.ID, 9)
}

// startRelay runs, for the test, the relay the worker runs in production:
// over the stack's database and streams, with the member set repair hook.
func startRelay(t *testing.T, s *apitest.Stack) {
	d := s.Deps
	guard := eventlog.NewGuard(d.Streams, d.Keys, d.Cfg.StreamMaxLen, d.DB)
	relay := eventlog.NewRelay(guard, d.DB, d.Log, time.Now,
		eventlog.RelayConfig{Grace: 200 * time.Millisecond, Interval: 50 * time.Millisecond}, nil,
		membership.New(d.Redis, d.Keys, d.DB).RelayHook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); relay.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}
