package server

import (
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// The gnet event handler. gnet calls these on the connection's loop.

// deadPeer is how long written data may stay unacknowledged before the
// kernel gives up on a connection (TCP_USER_TIMEOUT).
const deadPeer = 30 * time.Second

var (
	refuseBusy = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	refuseRate = []byte("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
)

// OnOpen admits a new connection and starts its handshake, or refuses it
// with a plain HTTP status: 503 at the socket cap (which keeps the process
// below its open-files limit, see fd.go) or while draining, 429 past its
// address's handshake rate or open-socket cap.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	now := time.Now()
	if s.m.open.Load() >= int64(s.cfg.MaxSockets) || s.draining.Load() {
		s.m.handshake(hsCapacity)
		return refuseBusy, gnet.Close
	}
	// A trusted proxy's client is known only from the request head: the
	// handshake admits it there (admitProxied).
	var st *addrState
	if peer := addrOf(c.RemoteAddr()); !s.cfg.TrustedProxies.Trusts(peer) {
		var why int
		if st, why = s.limit.admit(peer, now); st == nil {
			s.refusedAddr(why)
			return refuseRate, gnet.Close
		}
	}
	s.m.open.Add(1)
	s.m.accepted.Add(1)
	// A peer that vanished leaves pings unacknowledged; the kernel drops
	// the connection after deadPeer instead of retrying for ~15 minutes.
	_ = unix.SetsockoptInt(c.Fd(), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(deadPeer.Milliseconds()))
	l := s.loopOf(c.EventLoop())
	sk := &socket{gc: c, l: l, addr: st}
	c.SetContext(sk)
	sk.aux = &aux{deadline: now.Add(s.cfg.HandshakeTimeout)}
	sk.list, sk.pos = listPending, int32(len(l.pending))
	l.pending = append(l.pending, sk)
	return nil, gnet.None
}

// refusedAddr counts a connection refused for its address.
func (s *Server) refusedAddr(why int) {
	if why == overCap {
		s.m.handshake(hsAddrCap)
	} else {
		s.m.handshake(hsRateLimited)
	}
}

// OnClose forgets the socket everywhere. It may run inside a delivery or a
// tick (a write failed or the socket was too slow); the hub and the loop
// lists tolerate that.
func (s *Server) OnClose(c gnet.Conn, _ error) gnet.Action {
	sk, ok := c.Context().(*socket)
	if !ok || sk.closed {
		return gnet.None
	}
	sk.closed = true
	sk.l.forget(sk)
	if sk.addr != nil {
		s.limit.release(sk.addr)
		sk.addr = nil
	}
	if sk.state == stOpen {
		sk.l.shard.Detach(&sk.Conn)
		s.d.Presence.Disconnect(sk.User)
	}
	sk.aux = nil
	s.m.open.Add(-1)
	return gnet.None
}

// OnTraffic reads what arrived: the handshake, or frames once welcomed.
// While the token is being checked bytes wait in gnet's inbound buffer,
// bounded so a client cannot pile them up.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	sk, ok := c.Context().(*socket)
	if !ok || sk.closed {
		return gnet.Close
	}
	l := sk.l
	l.inTraffic = sk
	var act gnet.Action
	switch sk.state {
	case stHandshake:
		act = l.handshake(sk)
	case stAuth:
		if c.InboundBuffered() > s.cfg.MaxMessageBytes+s.cfg.MaxHandshakeBytes {
			act = gnet.Close
		}
	case stOpen:
		act = l.readFrames(sk, time.Now())
	}
	l.inTraffic = nil
	if sk.closeAfter {
		return gnet.Close
	}
	return act
}
