// Package server is the edge process: it accepts WebSocket connections,
// runs them on gnet event loops, speaks the Action Cable protocol, and
// wires the hub, the stream consumer and presence together.
//
// Threading. Each gnet event loop has a loop value (loop.go) that owns its
// sockets, its hub shard and a task queue other goroutines post to; every
// socket field is touched only on its loop. Blocking work (token checks,
// Redis reads and appends) runs on a bounded worker pool (pool.go) and
// posts its result back to the loop. gnet's main reactor accepts and hands
// each connection to the least busy loop (engine.go admits or refuses it
// there); the ticker, the stream readers, presence and the admin server are
// goroutines of their own. There is no per-socket goroutine and no
// per-socket buffer while a socket is idle.
//
// Lock order: Server.mu (loops list) is never held while taking a loop's
// queue lock, the intern table's lock, the address limiter's lock, the
// presence tracker's lock or the typing limiter's lock, and none of those
// is held while taking another.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/shared/background"
	"github.com/panjf2000/gnet/v2"
)

// tickEvery is the loops' timer resolution. Pings go out in 1/N slices of
// the sockets every tick: with 10 ms ticks a slice of 19,000 sockets over
// two loops is ~30 writes per loop (well under a millisecond), so no tick
// holds a delivery back for long.
const tickEvery = 10 * time.Millisecond

// Server is a running edge.
type Server struct {
	gnet.BuiltinEventEngine

	cfg     Config
	d       *Deps
	log     *slog.Logger
	m       *metrics
	origins map[string]bool
	typing  *typingLimiter
	start   time.Time

	eng    gnet.Engine
	addr   string // the listener's address, known once booted
	booted chan struct{}
	pool   *pool
	limit  *addrLimiter

	mu    sync.Mutex
	loops map[gnet.EventLoop]*loop
	list  []*loop

	draining atomic.Bool
}

// New returns a Server on d; Listen then Run start it.
func New(cfg Config, d *Deps) *Server {
	s := &Server{cfg: cfg, d: d, log: d.Log, m: newMetrics(d.Metrics), origins: map[string]bool{},
		typing: newTypingLimiter(cfg.TypingInterval), start: time.Now(), loops: map[gnet.EventLoop]*loop{},
		booted: make(chan struct{}), limit: newAddrLimiter(cfg.HandshakeRate, cfg.HandshakeBurst)}
	for _, o := range cfg.AllowedOrigins {
		s.origins[o] = true
	}
	debug.SetGCPercent(cfg.GCPercent)
	return s
}

// Run serves until ctx ends, then shuts down gracefully: it refuses new
// connections, sends every socket server_restart in jittered batches over
// ShutdownWindow, says presence goodbye, stops the engine and returns.
func (s *Server) Run(ctx context.Context) error {
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	s.pool = newPool(work, s.cfg.Workers, s.cfg.WorkQueue)
	opts := []gnet.Option{
		gnet.WithLogger(gnetLogger{s.log}),
		gnet.WithReadBufferCap(64 << 10),
		gnet.WithLoadBalancing(gnet.LeastConnections),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReuseAddr(true), // a restart binds at once despite TIME_WAIT connections
	}
	if s.cfg.EventLoops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.EventLoops))
	} else {
		opts = append(opts, gnet.WithMulticore(true))
	}
	if s.cfg.SocketSendBuffer > 0 {
		opts = append(opts, gnet.WithSocketSendBuffer(s.cfg.SocketSendBuffer))
	}
	ran := make(chan error, 1)
	go func() { ran <- gnet.Run(s, "tcp://"+s.cfg.Addr, opts...) }()
	select {
	case <-s.booted:
	case err := <-ran:
		return fmt.Errorf("EDGE_ADDR: %w", err)
	}

	stopBG := background.Start(ctx,
		func(ctx context.Context) { _ = s.d.Consumer.Run(ctx) }, s.d.Presence.Run, s.ticker)
	admin, adminAddr, err := s.serveAdmin()
	if err != nil {
		stopBG()
		_ = s.eng.Stop(context.Background())
		return err
	}
	s.log.Info("edge listening", "addr", s.addr, "admin_addr", adminAddr.String(),
		"node", s.cfg.Node, "max_sockets", s.cfg.MaxSockets)

	select {
	case <-ctx.Done():
	case err := <-ran: // the engine stopped by itself: report it
		stopBG()
		_ = admin.Shutdown()
		return fmt.Errorf("gnet engine stopped: %w", err)
	}
	s.log.Info("shutting down", "sockets", s.m.open.Load())
	s.draining.Store(true)
	s.drain()
	stopBG()
	gctx, cancel := context.WithTimeout(context.Background(), s.cfg.PresenceGrace+3*time.Second)
	s.d.Presence.Goodbye(gctx)
	cancel()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = s.eng.Stop(sctx)
	cancel()
	<-ran
	stopWork()
	s.pool.close()
	_ = admin.Shutdown()
	s.log.Info("stopped")
	return err
}

// OnBoot learns the engine and the address it listens on.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	s.addr = s.cfg.Addr
	if fd, err := eng.Dup(); err == nil {
		if sa, err := syscall.Getsockname(fd); err == nil {
			if in, ok := sa.(*syscall.SockaddrInet4); ok {
				s.addr = net.JoinHostPort(net.IP(in.Addr[:]).String(), strconv.Itoa(in.Port))
			}
		}
		_ = syscall.Close(fd)
	}
	close(s.booted)
	return gnet.None
}

// loopOf returns the loop value of el, making it on first use.
func (s *Server) loopOf(el gnet.EventLoop) *loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.loops[el]
	if l == nil {
		l = newLoop(s, el)
		l.shard = s.d.Hub.NewShard(l, l.post, l.session)
		s.loops[el] = l
		s.list = append(s.list, l)
	}
	return l
}

func (s *Server) loopList() []*loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*loop(nil), s.list...)
}

// ticker posts a tick to every loop every tickEvery, and tidies memory
// after handshake bursts.
func (s *Server) ticker(ctx context.Context) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	var tidy tidier
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, l := range s.loopList() {
				l.post(func() { l.onTick(now) })
			}
			if tidy.check(s.m.accepted.Load(), now) {
				alloc, inuse := heapStats()
				s.log.Debug("returned free memory after a handshake burst", "heap_live", alloc, "heap_inuse", inuse,
					"sockets", s.m.open.Load())
			}
		}
	}
}

// ms is the time since start in milliseconds, for the sockets' buckets.
func (s *Server) ms(now time.Time) uint32 { return uint32(now.Sub(s.start).Milliseconds()) }
