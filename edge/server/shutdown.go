package server

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
)

// stops is Run's one cleanup path: what Run started, each with the step
// that stops it, run in reverse order under one deadline
// (ShutdownTimeout). A step must return when its context ends, whatever
// Redis or the engine do; a step that had to give up is logged.
type stops []stop

type stop struct {
	name string
	fn   func(context.Context)
}

func (st *stops) add(name string, fn func(context.Context)) { *st = append(*st, stop{name, fn}) }

func (st stops) run(ctx context.Context, log *slog.Logger) {
	for i := len(st) - 1; i >= 0; i-- {
		start := time.Now()
		st[i].fn(ctx)
		if ctx.Err() != nil {
			log.Warn("shutdown step cut short by EDGE_SHUTDOWN_TIMEOUT", "step", st[i].name,
				"took", time.Since(start).Round(time.Millisecond).String())
		}
	}
}

// within runs fn and waits for it at most until ctx ends (fn then goes
// on alone: the process is on its way out).
func within(ctx context.Context, fn func()) {
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// drain disconnects every socket with server_restart (reconnect: true) in
// batches spread over ShutdownWindow, each batch at a jittered moment of
// its slice of the window, so the clients do not all reconnect (to other
// nodes, or to this one restarted) in the same instant. Its last batch, at
// the window's end, is every socket left.
func (s *Server) drain() {
	window := s.cfg.ShutdownWindow
	steps := max(1, int(window/(50*time.Millisecond)))
	slice := window / time.Duration(steps)
	start := time.Now()
	for k := 0; k < steps; k++ {
		at := start.Add(time.Duration(k)*slice + rand.N(slice+1))
		time.Sleep(time.Until(at))
		left := steps - k
		for _, l := range s.loopList() {
			l.post(func() { l.shed(left) })
		}
	}
}

// closeAll closes every socket still open (the drain's or, on an early
// stop, none yet) and waits until the loops have, at most until ctx ends.
func (s *Server) closeAll(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.m.open.Load() > 0 {
		for _, l := range s.loopList() {
			l.post(func() { l.shed(1) })
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shed disconnects 1/parts of the loop's sockets (all when parts is 1).
func (l *loop) shed(parts int) {
	socks := l.sockets()
	n := (len(socks) + parts - 1) / parts
	for _, s := range socks[:n] {
		if s.state == stOpen {
			s.Disconnect(cable.ServerRestart)
		} else {
			s.close()
		}
	}
}
