package server

import (
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/panjf2000/gnet/v2"
)

// Socket states.
const (
	stHandshake uint8 = iota // reading the HTTP upgrade request
	stAuth                   // upgraded; the token is being checked
	stOpen                   // welcomed
)

// socket is one connection's state. It is small on purpose (the memory
// target is under 1 KB per idle subscribed socket, gnet's own state
// included): what only a handshake needs hangs off hs, what only a few
// sockets need hangs off x, and both are nil while the socket is idle.
type socket struct {
	hub.Conn
	gc gnet.Conn
	l  *loop
	hs *handshake
	x  *extra

	cmds, bad bucket
	// bucket and bpos place the socket in its loop's ping buckets, ppos in
	// its pending list; -1 when not there.
	bucket, bpos, ppos int32
	state              uint8
	closed, closeAfter bool
}

// handshake is the state of a socket not yet welcomed.
type handshake struct {
	deadline time.Time
	token    string
}

// extra is what few sockets need: a fragmented message being assembled,
// and ConversationChannel subscribes whose membership check is running.
type extra struct {
	frag    []byte
	fragOp  byte
	pending []pendingSub
}

type pendingSub struct {
	raw     []byte
	conv    id.ID
	started time.Time
}

func (s *socket) ext() *extra {
	if s.x == nil {
		s.x = &extra{}
	}
	return s.x
}

// tidy drops x once nothing is left in it.
func (s *socket) tidy() {
	if s.x != nil && s.x.frag == nil && len(s.x.pending) == 0 {
		s.x = nil
	}
}

// Send writes one frame, unless the socket's unsent bytes would pass the
// bound: then the socket is too slow and is closed, so it can neither grow
// the process's memory nor hold anyone else back. gnet copies what it
// cannot write at once, so frame may be reused after Send returns.
func (s *socket) Send(frame []byte) {
	if s.closed {
		return
	}
	if s.gc.OutboundBuffered()+len(frame) > s.l.srv.cfg.MaxOutboundBytes {
		s.Disconnect(cable.TooSlow)
		return
	}
	_, _ = s.gc.Write(frame) // an error closes the socket (OnClose)
}

// Disconnect tells the client why and closes the socket.
func (s *socket) Disconnect(r cable.Reason) {
	if s.closed {
		return
	}
	s.l.srv.m.disconnected(r)
	_, _ = s.gc.Write(disconnectFrames[r])
	if !s.closed {
		_, _ = s.gc.Write(closeNormal)
	}
	s.close()
}

// close closes the socket on its loop. Inside OnTraffic for this very
// socket it only asks OnTraffic to return gnet.Close, because gnet keeps
// using the connection until then.
func (s *socket) close() {
	if s.closed {
		return
	}
	if s.l.inTraffic == s {
		s.closeAfter = true
		return
	}
	_ = s.l.el.Close(s.gc)
}

// strike counts a malformed or over-limit command; a socket that keeps
// sending them is disconnected.
func (s *socket) strike(now time.Time) {
	srv := s.l.srv
	srv.m.malformed.Inc()
	if !s.bad.take(srv.ms(now), 0.1, float32(srv.cfg.MaxInvalid)) {
		s.Disconnect(cable.InvalidRequest)
	}
}

// disconnectFrames are the disconnect messages, built once.
var disconnectFrames = func() map[cable.Reason][]byte {
	m := map[cable.Reason][]byte{}
	for _, r := range []cable.Reason{cable.Unauthorized, cable.TokenExpired, cable.InvalidRequest,
		cable.ServerRestart, cable.TooSlow, cable.Remote} {
		m[r] = cable.DisconnectFrame(r)
	}
	return m
}()

var closeNormal = cable.AppendClose(nil, cable.CloseNormal)
