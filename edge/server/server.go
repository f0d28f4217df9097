// Package server is the edge process: it accepts WebSocket connections,
// runs them on gnet event loops, speaks the Action Cable protocol, and
// wires the hub, the stream consumer and presence together.
//
// Threading. Each gnet event loop has a loop value (loop.go) that owns its
// sockets, its hub shard and a task queue other goroutines post to; every
// socket field is touched only on its loop. Blocking work (token checks,
// Redis reads and appends) runs on a bounded worker pool (pool.go) and
// posts its result back to the loop. The acceptor (accept.go), the ticker
// and the admin server are goroutines of their own. There is no
// per-socket goroutine and no per-socket buffer while a socket is idle.
//
// Lock order: Server.mu (loops list) is never held while taking a loop's
// queue lock, the intern table's lock, the presence tracker's lock or the
// typing limiter's lock, and none of those is held while taking another.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// tickEvery is the loops' timer resolution: pings go out in 1/N slices of
// the sockets every tick, so no tick writes to every socket at once.
const tickEvery = 50 * time.Millisecond

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

	cli  *gnet.Client
	ln   net.Listener
	pool *pool

	mu    sync.Mutex
	loops map[gnet.EventLoop]*loop
	list  []*loop

	draining atomic.Bool
}

// New returns a Server on d; Listen then Run start it.
func New(cfg Config, d *Deps) *Server {
	s := &Server{cfg: cfg, d: d, log: d.Log, m: newMetrics(d.Metrics), origins: map[string]bool{},
		typing: newTypingLimiter(cfg.TypingInterval), start: time.Now(), loops: map[gnet.EventLoop]*loop{}}
	for _, o := range cfg.AllowedOrigins {
		s.origins[o] = true
	}
	if cfg.Pprof {
		runtime.MemProfileRate = 512 // fine heap profiles, for memory work
	}
	return s
}

// Listen binds EDGE_ADDR and returns the address it got.
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("EDGE_ADDR: %w", err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, sends every socket server_restart in jittered batches over
// ShutdownWindow, says presence goodbye and returns.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	s.pool = newPool(work, s.cfg.Workers, s.cfg.WorkQueue)
	opts := []gnet.Option{
		gnet.WithLogger(gnetLogger{s.log}),
		gnet.WithReadBufferCap(64 << 10),
	}
	if s.cfg.EventLoops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.EventLoops))
	} else {
		opts = append(opts, gnet.WithMulticore(true))
	}
	if s.cfg.SocketSendBuffer > 0 {
		opts = append(opts, gnet.WithSocketSendBuffer(s.cfg.SocketSendBuffer))
	}
	cli, err := gnet.NewClient(s, opts...)
	if err != nil {
		return fmt.Errorf("gnet: %w", err)
	}
	if err := cli.Start(); err != nil {
		return fmt.Errorf("gnet: %w", err)
	}
	s.cli = cli

	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(bg) }()
	}
	run(func(ctx context.Context) { _ = s.d.Consumer.Run(ctx) })
	run(s.d.Presence.Run)
	run(s.ticker)
	admin, adminAddr, err := s.serveAdmin()
	if err != nil {
		stopBG()
		_ = cli.Stop()
		return err
	}
	accepted := make(chan struct{})
	go func() { defer close(accepted); s.accept() }()
	s.log.Info("edge listening", "addr", s.ln.Addr().String(), "admin_addr", adminAddr.String(),
		"node", s.cfg.Node, "max_sockets", s.cfg.MaxSockets)

	<-ctx.Done()
	s.log.Info("shutting down", "sockets", s.m.open.Load())
	s.draining.Store(true)
	_ = s.ln.Close()
	<-accepted
	s.drain()
	stopBG()
	wg.Wait()
	gctx, cancel := context.WithTimeout(context.Background(), s.cfg.PresenceGrace+3*time.Second)
	s.d.Presence.Goodbye(gctx)
	cancel()
	err = cli.Stop()
	stopWork()
	s.pool.close()
	_ = admin.Shutdown()
	s.log.Info("stopped")
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// loopOf returns the loop value of el, making it on first use.
func (s *Server) loopOf(el gnet.EventLoop) *loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.loops[el]
	if l == nil {
		l = newLoop(s, el)
		l.shard = s.d.Hub.NewShard(l.post)
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
			tidy.check(s.m.accepted.Load(), now)
		}
	}
}

// ms is the time since start in milliseconds, for the sockets' buckets.
func (s *Server) ms(now time.Time) uint32 { return uint32(now.Sub(s.start).Milliseconds()) }
