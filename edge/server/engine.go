package server

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// The gnet event handler. gnet calls these on the connection's loop.

// OnOpen starts the handshake of a connection the acceptor enrolled.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	sk, ok := c.Context().(*socket)
	if !ok {
		return nil, gnet.Close
	}
	l := s.loopOf(c.EventLoop())
	sk.gc, sk.l = c, l
	sk.aux = &aux{deadline: time.Now().Add(s.cfg.HandshakeTimeout)}
	sk.list, sk.pos = listPending, int32(len(l.pending))
	l.pending = append(l.pending, sk)
	return nil, gnet.None
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
