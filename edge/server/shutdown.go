package server

import (
	"math/rand/v2"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
)

// drain disconnects every socket with server_restart (reconnect: true) in
// batches spread over ShutdownWindow, each batch at a jittered moment of
// its slice of the window, so the clients do not all reconnect (to other
// nodes, or to this one restarted) in the same instant. It returns when
// every socket is closed, or a little after the window.
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
	deadline := time.Now().Add(5 * time.Second)
	for s.m.open.Load() > 0 && time.Now().Before(deadline) {
		for _, l := range s.loopList() {
			l.post(func() { l.shed(1) })
		}
		time.Sleep(20 * time.Millisecond)
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
