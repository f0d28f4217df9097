package server

import (
	"errors"
	"net"
	"time"
)

var (
	refuseBusy = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	refuseRate = []byte("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
)

// accept takes connections off the listener and enrolls them in gnet's
// event loops, one at a time (enrolling waits for the loop to open the
// connection, which also keeps gnet's worker goroutines from piling up in
// a burst). It refuses connections past the socket cap or the per-address
// rate with a plain HTTP status. It returns when the listener is closed;
// no accept error stops it (see fd.go).
func (s *Server) accept() {
	lim := newAddrLimiter(s.cfg.HandshakeRate, s.cfg.HandshakeBurst)
	var spare reserve
	spare.take()
	defer spare.release()
	var delay time.Duration
	var lastLog time.Time
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			kind := "other"
			if isFDExhaustion(err) {
				kind = "fd_exhausted"
				s.shed(&spare)
			}
			s.m.accept.WithLabelValues(kind).Inc()
			if time.Since(lastLog) > time.Minute {
				lastLog = time.Now()
				s.log.Warn("accept failed; backing off", "err", err, "sockets", s.m.open.Load())
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		switch {
		case !lim.allow(nc.RemoteAddr(), time.Now()):
			s.m.handshake(hsRateLimited)
			refuse(nc, refuseRate)
			continue
		case s.m.open.Load() >= int64(s.cfg.MaxSockets) || s.draining.Load():
			s.m.handshake(hsCapacity)
			refuse(nc, refuseBusy)
			continue
		}
		s.m.open.Add(1)
		s.m.accepted.Add(1)
		// EnrollContext duplicates the descriptor into gnet and closes nc.
		if _, err := s.cli.EnrollContext(nc, &socket{list: listNone}); err != nil {
			s.m.open.Add(-1)
			kind := "enroll"
			if isFDExhaustion(err) {
				kind = "fd_exhausted"
			}
			s.m.accept.WithLabelValues(kind).Inc()
		}
	}
}

// shed frees the reserved descriptor to accept and close one pending
// connection, so the listen queue drains instead of failing every accept.
func (s *Server) shed(spare *reserve) {
	spare.release()
	if tl, ok := s.ln.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(5 * time.Millisecond))
		if nc, err := tl.Accept(); err == nil {
			_ = nc.Close()
		}
		_ = tl.SetDeadline(time.Time{})
	}
	spare.take()
}

func refuse(nc net.Conn, status []byte) {
	_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = nc.Write(status)
	_ = nc.Close()
}
