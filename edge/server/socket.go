package server

import (
	"time"
	"unsafe"

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

// socketOf returns the socket whose hub.Conn c is: Conn is a socket's first
// field, so the two share an address (connFirst checks it at compile time).
// This spares every socket the 16-byte interface the hub would otherwise
// keep to reach it.
func socketOf(c *hub.Conn) *socket { return (*socket)(unsafe.Pointer(c)) }

// connFirst fails to compile should Conn not be socket's first field.
var _ [0]struct{} = [unsafe.Offsetof(socket{}.Conn)]struct{}{}

// Send, SendMany and Disconnect make the loop the hub's hub.Out for its
// sockets. A socket due a ping within half an interval gets it in the
// same write as its events (see pingDue): at a few events per socket per
// second that saves most of the ping writes.
func (l *loop) Send(c *hub.Conn, frame []byte) {
	s := socketOf(c)
	if !l.pingDue(s) {
		s.Send(frame)
		return
	}
	l.two[0], l.two[1] = frame, l.ping
	s.SendMany(l.two[:])
	l.two = [2][]byte{}
}

// SendMany writes frames, and a ping when one is due.
func (l *loop) SendMany(c *hub.Conn, frames [][]byte) {
	s := socketOf(c)
	if l.pingDue(s) {
		frames = append(frames, l.ping) // the hub's scratch; it allows this
	}
	s.SendMany(frames)
}

// Disconnect disconnects c's socket for r.
func (l *loop) Disconnect(c *hub.Conn, r cable.Reason) { socketOf(c).Disconnect(r) }

// socket is one connection's state. It is small on purpose (the memory
// target is under 1 KB per idle subscribed socket, gnet's own state
// included): what only a handshake or a few busy sockets need hangs off
// aux, which is nil while the socket is idle.
type socket struct {
	hub.Conn
	gc  gnet.Conn
	l   *loop
	aux *aux

	// addr is the client address's entry in the per-address limiter,
	// whose open-socket count this socket holds a place in until it
	// closes; nil until the address is known (a trusted proxy's client
	// is known from the request head).
	addr *addrState

	cmds bucket
	// list and pos place the socket in one of its loop's lists: a ping
	// bucket (list >= 0), the pending handshakes (listPending) or none.
	pos int32
	// pingedAt is the loop tick of the socket's last ping.
	pingedAt uint32
	list     int16
	// strikeAt (in 10 s units since the server started) and strikes count
	// malformed and over-limit commands, one forgiven per 10 s.
	strikeAt           uint16
	strikes            uint8
	state              uint8
	closed, closeAfter bool
}

// A socket stays within Go's 96-byte size class (the memory target; see
// the comment above): socketSize fails to compile should it grow.
var _ [96 - unsafe.Sizeof(socket{})]struct{}

// The socket's list when it is in no ping bucket.
const (
	listNone    = -1
	listPending = -2
)

// aux is what few sockets need at a time: the handshake's deadline, its
// token and its 101 answer (held back, see handshake) until the socket is
// welcomed, a fragmented message being
// assembled, and ConversationChannel subscribes whose membership check is
// running.
type aux struct {
	deadline time.Time
	token    string
	head     []byte
	frag     []byte
	fragOp   byte
	pending  []pendingSub
}

type pendingSub struct {
	raw     []byte
	conv    id.ID
	started time.Time
}

func (s *socket) ext() *aux {
	if s.aux == nil {
		s.aux = &aux{}
	}
	return s.aux
}

// tidy drops aux once a welcomed socket needs nothing in it.
func (s *socket) tidy() {
	if a := s.aux; a != nil && s.state == stOpen && a.frag == nil && len(a.pending) == 0 {
		s.aux = nil
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
	queued := s.gc.OutboundBuffered()
	if queued == 0 {
		n, errno := rawWrite(s.gc.Fd(), frame) // see write.go
		if errno == 0 && n == len(frame) {
			return
		}
		if errno == 0 {
			frame = frame[n:]
		}
	}
	if queued+len(frame) > s.l.srv.cfg.MaxOutboundBytes {
		s.Disconnect(cable.TooSlow)
		return
	}
	_, _ = s.gc.Write(frame) // buffers what is left; an error closes the socket (OnClose)
}

// SendMany writes several frames in one writev, under Send's bound.
func (s *socket) SendMany(frames [][]byte) {
	if s.closed {
		return
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	queued := s.gc.OutboundBuffered()
	if queued == 0 {
		w, errno, iov := rawWritev(s.gc.Fd(), frames, s.l.iov) // see write.go
		s.l.iov = iov
		if errno == 0 && w == n {
			return
		}
		if errno == 0 {
			frames, n = skip(frames, w), n-w
		}
	}
	if queued+n > s.l.srv.cfg.MaxOutboundBytes {
		s.Disconnect(cable.TooSlow)
		return
	}
	_, _ = s.gc.Writev(frames) // buffers what is left; an error closes the socket (OnClose)
}

// Disconnect tells the client why and closes the socket.
func (s *socket) Disconnect(r cable.Reason) {
	if s.closed {
		return
	}
	s.l.srv.m.disconnected(r)
	if a := s.aux; a != nil && a.head != nil {
		_, _ = s.gc.Write(a.head) // the upgrade the token check held back
		a.head = nil
	}
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
// sending them (more than MaxInvalid, one forgiven per 10 s) is
// disconnected.
func (s *socket) strike(now time.Time) {
	srv := s.l.srv
	srv.m.malformed.Inc()
	at := uint16(srv.ms(now) / 10_000)
	if forgiven := at - s.strikeAt; forgiven >= uint16(s.strikes) {
		s.strikes = 0
	} else {
		s.strikes -= uint8(forgiven)
	}
	s.strikeAt = at
	if s.strikes++; int(s.strikes) > srv.cfg.MaxInvalid {
		s.Disconnect(cable.InvalidRequest)
	}
}

// disconnectFrames are the disconnect messages, built once.
var disconnectFrames = func() map[cable.Reason][]byte {
	m := map[cable.Reason][]byte{}
	for _, r := range cable.Reasons {
		m[r] = cable.DisconnectFrame(r)
	}
	return m
}()

var closeNormal = cable.AppendClose(nil, cable.CloseNormal)
