package server

import (
	"errors"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/panjf2000/gnet/v2"
)

// readFrames handles every whole frame in the socket's inbound buffer. It
// peeks the buffer once, unmasks payloads in place (the bytes are
// discarded right after), and discards what it consumed; a partial frame
// stays for the next read. Frames are refused by their header as soon as
// it shows them too large, before their payload is buffered.
func (l *loop) readFrames(s *socket, now time.Time) gnet.Action {
	c := s.gc
	buf, _ := c.Peek(-1)
	off := 0
	act := gnet.None
	for off < len(buf) && !s.closed && !s.closeAfter {
		h, payload, n, err := cable.NextFrame(buf[off:], l.srv.cfg.MaxMessageBytes)
		if err != nil {
			code := uint16(cable.CloseProtocolError)
			if errors.Is(err, cable.ErrFrameTooLarge) {
				code = cable.CloseTooBig
			}
			l.protocolError(s, code)
			act = gnet.Close
			break
		}
		if n == 0 {
			break
		}
		cable.Unmask(payload, h.Mask, 0)
		if a := l.frame(s, h, payload, now); a != gnet.None {
			act = a
			off += n
			break
		}
		off += n
	}
	if off > 0 && !s.closed {
		_, _ = c.Discard(off) // never Discard(0): gnet reads it as "discard everything"
	}
	return act
}

// frame handles one frame: data frames (assembled when fragmented) become
// commands; pings are answered; a close is answered and closes.
func (l *loop) frame(s *socket, h cable.Header, payload []byte, now time.Time) gnet.Action {
	switch h.Op {
	case cable.OpText, cable.OpBinary:
		if s.aux != nil && s.aux.frag != nil {
			l.protocolError(s, cable.CloseProtocolError) // a new message inside a fragmented one
			return gnet.Close
		}
		if h.Fin {
			l.command(s, payload, now)
			return gnet.None
		}
		x := s.ext()
		x.frag, x.fragOp = append(make([]byte, 0, 2*len(payload)), payload...), h.Op
	case cable.OpContinuation:
		if s.aux == nil || s.aux.frag == nil {
			l.protocolError(s, cable.CloseProtocolError)
			return gnet.Close
		}
		if len(s.aux.frag)+len(payload) > l.srv.cfg.MaxMessageBytes {
			l.protocolError(s, cable.CloseTooBig)
			return gnet.Close
		}
		s.aux.frag = append(s.aux.frag, payload...)
		if h.Fin {
			msg := s.aux.frag
			s.aux.frag = nil
			s.tidy()
			l.command(s, msg, now)
		}
	case cable.OpPing:
		l.scratch = cable.AppendFrame(l.scratch[:0], cable.OpPong, payload)
		s.Send(l.scratch)
	case cable.OpPong:
	case cable.OpClose:
		l.scratch = cable.AppendClose(l.scratch[:0], cable.CloseReply(payload))
		s.Send(l.scratch)
		return gnet.Close
	}
	return gnet.None
}

// protocolError answers a WebSocket protocol violation: Action Cable's
// invalid_request disconnect, then a close frame with code.
func (l *loop) protocolError(s *socket, code uint16) {
	l.srv.m.malformed.Inc()
	l.srv.m.disconnected(cable.InvalidRequest)
	s.Send(disconnectFrames[cable.InvalidRequest])
	l.scratch = cable.AppendClose(l.scratch[:0], code)
	s.Send(l.scratch)
}
