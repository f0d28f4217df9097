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

// New returns a Server on d; Run starts it. It changes nothing
// process-wide (main sets the GC target).
func New(cfg Config, d *Deps) *Server {
	s := &Server{cfg: cfg, d: d, log: d.Log, m: newMetrics(d.Metrics), origins: map[string]bool{},
		typing: newTypingLimiter(cfg.TypingInterval), start: time.Now(), loops: map[gnet.EventLoop]*loop{},
		booted: make(chan struct{}), limit: newAddrLimiter(cfg.HandshakeRate, cfg.HandshakeBurst, cfg.MaxSocketsPerAddr)}
	for _, o := range cfg.AllowedOrigins {
		s.origins[o] = true
	}
	s.m.gauges(d.Metrics, cfg.MaxSockets, s.queued, d.Hub.Backlog)
	return s
}

// queued is how many jobs wait for the worker pool. Only the admin
// address reads it (the scrape), which Run starts after the pool.
func (s *Server) queued() int {
	if s.pool == nil {
		return 0
	}
	return len(s.pool.jobs)
}

// Run serves until ctx ends, then shuts down gracefully: it refuses new
// connections, sends every socket server_restart in jittered batches over
// ShutdownWindow, and then stops what it started within ShutdownTimeout.
//
// Everything Run starts is stopped on one path (stops, below), whichever
// way Run returns: a listener that cannot bind, an admin address taken, an
// engine that stops by itself, or ctx. Run owns d: its last step closes
// d's Redis clients.
func (s *Server) Run(ctx context.Context) (err error) {
	var st stops
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		st.run(sctx, s.log)
		s.log.Info("stopped")
	}()
	st.add("redis clients", s.d.Close)

	work, stopWork := context.WithCancel(context.Background())
	s.pool = newPool(work, s.cfg.Workers, s.cfg.WorkQueue)
	st.add("worker pool", func(ctx context.Context) { stopWork(); s.pool.close(ctx) })

	engineDone := make(chan struct{})
	var engineErr error
	go func() { engineErr = gnet.Run(s, "tcp://"+s.cfg.Addr, s.gnetOptions()...); close(engineDone) }()
	select {
	case <-s.booted:
	case <-engineDone:
		return fmt.Errorf("EDGE_ADDR: %w", engineErr)
	}
	st.add("engine", func(ctx context.Context) {
		_ = s.eng.Stop(ctx) // fails when the engine stopped by itself
		select {
		case <-engineDone:
		case <-ctx.Done():
		}
	})
	st.add("presence goodbye", s.d.Presence.Goodbye)
	st.add("sockets", s.closeAll)

	stopBG := background.Start(ctx,
		func(ctx context.Context) { _ = s.d.Consumer.Run(ctx) }, s.d.Presence.Run, s.ticker)
	st.add("background", func(ctx context.Context) { within(ctx, stopBG) })

	admin, adminAddr, err := s.serveAdmin()
	if err != nil {
		return err
	}
	st.add("admin", func(ctx context.Context) { _ = admin.ShutdownWithContext(ctx) })
	s.log.Info("edge listening", "addr", s.addr, "admin_addr", adminAddr.String(),
		"node", s.cfg.Node, "max_sockets", s.cfg.MaxSockets)

	select {
	case <-ctx.Done():
	case <-engineDone: // the engine stopped by itself: report it
		return fmt.Errorf("gnet engine stopped: %w", engineErr)
	}
	s.log.Info("shutting down", "sockets", s.m.open.Load())
	s.draining.Store(true)
	s.drain()
	return nil
}

func (s *Server) gnetOptions() []gnet.Option {
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
	return opts
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
