package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

// The handshake is parsed from gnet's inbound buffer without copying it
// out: the edge waits until the buffer holds the whole request head (up to
// and including the blank line), hands exactly those bytes to gobwas/ws,
// and leaves whatever follows in the buffer for the frame reader; a head
// split over many TCP segments simply waits for the rest.

const (
	protocolV1          = "actioncable-v1-json"
	protocolUnsupported = "actioncable-unsupported"
)

var (
	headEnd      = []byte("\r\n\r\n")
	cablePath    = []byte("/cable")
	originKey    = []byte("Origin")
	forwardedKey = []byte("X-Forwarded-For")
	errAddrLimit = ws.RejectConnectionError(ws.RejectionStatus(http.StatusTooManyRequests), ws.RejectionReason("too many connections from this address"))
	errNotFound  = ws.RejectConnectionError(ws.RejectionStatus(http.StatusNotFound), ws.RejectionReason("not found"))
	errOrigin    = ws.RejectConnectionError(ws.RejectionStatus(http.StatusForbidden), ws.RejectionReason("origin not allowed"))
	tooLarge     = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
)

// handshakeScratch is a loop's reusable upgrader and buffers. The
// upgrader's callbacks fill the fields below for the request being read;
// one loop reads one request at a time.
type handshakeScratch struct {
	up  ws.Upgrader
	in  bytes.Reader
	out bytes.Buffer
	rw  headRW

	token     string
	originBad bool
	// For a connection from a trusted proxy: its socket and peer, the
	// X-Forwarded-For headers joined, and why the client's address was
	// refused (admitted when it was not).
	sk      *socket
	peer    netip.Addr
	proxied bool
	xff     []byte
	refused int
}

type headRW struct{ h *handshakeScratch }

func (rw headRW) Read(p []byte) (int, error)  { return rw.h.in.Read(p) }
func (rw headRW) Write(p []byte) (int, error) { return rw.h.out.Write(p) }

func (h *handshakeScratch) init(l *loop) {
	h.rw = headRW{h}
	origins := l.srv.origins
	h.up = ws.Upgrader{
		ReadBufferSize: l.srv.cfg.MaxHandshakeBytes,
		OnRequest: func(uri []byte) error {
			path, query, _ := bytes.Cut(uri, []byte{'?'})
			if !bytes.Equal(path, cablePath) {
				return errNotFound
			}
			if q, err := url.ParseQuery(string(query)); err == nil {
				if t := q.Get("token"); t != "" {
					h.token = t
				}
			}
			return nil
		},
		OnHeader: func(key, value []byte) error {
			if bytes.EqualFold(key, originKey) && !origins[string(value)] {
				h.originBad = true
				return errOrigin
			}
			if h.proxied && bytes.EqualFold(key, forwardedKey) {
				if len(h.xff) > 0 {
					h.xff = append(h.xff, ',')
				}
				h.xff = append(h.xff, value...)
			}
			return nil
		},
		// A trusted proxy's client is admitted here, by the address the
		// proxies' X-Forwarded-For gives (shared/clientaddr's rule, the
		// api's too), before the 101 goes out.
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) {
			if !h.proxied {
				return nil, nil
			}
			srv := l.srv
			client := srv.cfg.TrustedProxies.Client(h.peer, string(h.xff))
			st, why := srv.limit.admit(client, time.Now())
			if st == nil {
				h.refused = why
				return nil, errAddrLimit
			}
			h.sk.addr = st
			return nil, nil
		},
		// The client offers "actioncable-v1-json, actioncable-unsupported"
		// and may add its token as one more entry; the answer must be
		// exactly actioncable-v1-json or the official client gives up.
		ProtocolCustom: func(v []byte) (string, bool) {
			chosen, ok := "", true
			httphead.ScanTokens(v, func(tok []byte) bool {
				switch string(tok) {
				case protocolV1:
					chosen = protocolV1
				case protocolUnsupported:
				default:
					if h.token == "" && bytes.Count(tok, []byte{'.'}) == 2 {
						h.token = string(tok)
					}
				}
				return true
			})
			return chosen, ok
		},
	}
}

// handshake reads the upgrade request once it is whole and answers it.
func (l *loop) handshake(s *socket) gnet.Action {
	c := s.gc
	buf, _ := c.Peek(-1)
	end := bytes.Index(buf, headEnd)
	if end < 0 {
		if len(buf) > l.srv.cfg.MaxHandshakeBytes {
			l.srv.m.handshake(hsBadRequest)
			_, _ = c.Write(tooLarge)
			return gnet.Close
		}
		return gnet.None
	}
	n := end + len(headEnd)
	if n > l.srv.cfg.MaxHandshakeBytes {
		l.srv.m.handshake(hsBadRequest)
		_, _ = c.Write(tooLarge)
		return gnet.Close
	}
	h := &l.hs
	h.in.Reset(buf[:n])
	h.out.Reset()
	h.token, h.originBad = "", false
	h.sk, h.peer, h.xff, h.refused = s, netip.Addr{}, h.xff[:0], admitted
	if h.proxied = s.addr == nil; h.proxied {
		h.peer = addrOf(c.RemoteAddr())
	}
	_, err := h.up.Upgrade(h.rw)
	h.sk = nil
	_, _ = c.Discard(n)
	if err != nil {
		_, _ = c.Write(h.out.Bytes())
		switch {
		case h.originBad:
			l.srv.m.handshake(hsOrigin)
		case h.refused != admitted:
			l.srv.refusedAddr(h.refused)
		default:
			l.srv.m.handshake(hsBadRequest)
		}
		return gnet.Close
	}
	if s.closed {
		return gnet.None
	}
	s.state = stAuth
	// The 101 waits for the token check and leaves in one write with
	// welcome, or with the disconnect that refuses the token: one write
	// (and one wake-up of the client) fewer per handshake, and the client
	// learns nothing sooner that it could act on.
	s.aux.head = append(s.aux.head[:0], h.out.Bytes()...)
	if h.token == "" {
		l.authDone(s, token.Claims{}, token.ErrMalformed)
		return gnet.None
	}
	s.aux.token = h.token
	l.authenticate(s)
	return gnet.None
}

// authenticate checks the socket's token on the worker pool.
func (l *loop) authenticate(s *socket) {
	raw := s.aux.token
	s.aux.token = ""
	checker, timeout := l.srv.d.Checker, l.srv.cfg.RedisTimeout
	ok := l.srv.pool.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		claims, err := checker.Check(ctx, raw)
		cancel()
		l.post(func() { l.authDone(s, claims, err) })
	})
	if !ok {
		l.authDone(s, token.Claims{}, errBusy)
	}
}

var (
	errBusy     = errors.New("edge: worker pool full")
	errDraining = errors.New("edge: shutting down")
)

// authDone welcomes the socket or tells it why not. It maps every token
// error to its disconnect reason, in this one place.
func (l *loop) authDone(s *socket, claims token.Claims, err error) {
	if s.closed {
		return
	}
	srv := l.srv
	if err == nil && srv.draining.Load() {
		err = errDraining
	}
	if err != nil {
		reason, outcome := cable.Unauthorized, hsUnauthorized
		switch {
		case errors.Is(err, token.ErrExpired):
			reason, outcome = cable.TokenExpired, hsExpired
		case errors.Is(err, token.ErrMalformed), errors.Is(err, token.ErrInvalid), errors.Is(err, token.ErrRevoked):
		case errors.Is(err, errDraining):
			reason, outcome = cable.ServerRestart, hsUnavailable
		default: // the denylist did not answer in time (it fails closed), or the pool is full
			reason, outcome = cable.Unavailable, hsUnavailable
		}
		srv.m.handshake(outcome)
		s.Disconnect(reason)
		return
	}
	if n := srv.d.Presence.Connect(claims.UserID); n > srv.cfg.MaxSocketsPerUser {
		srv.d.Presence.Disconnect(claims.UserID)
		srv.m.handshake(hsUserCap)
		s.Disconnect(cable.Remote)
		return
	}
	l.forget(s) // leaves the pending list
	head := s.aux.head
	s.state = stOpen
	s.aux.deadline, s.aux.head = time.Time{}, nil
	s.tidy()
	s.Init(claims.UserID, claims.SID)
	l.shard.Attach(&s.Conn)
	l.open(s)
	s.pingedAt = uint32(l.tick) // welcome counts as the first ping
	srv.m.handshake(hsOK)
	l.scratch = append(append(l.scratch[:0], head...), cable.Welcome...)
	s.Send(l.scratch)
	// Commands the client sent right behind its request wait in the
	// inbound buffer: read them now.
	if !s.closed && s.gc.InboundBuffered() > 0 {
		l.inTraffic = s
		act := l.readFrames(s, time.Now())
		l.inTraffic = nil
		if act == gnet.Close || s.closeAfter {
			s.closeAfter = false
			s.close()
		}
	}
}
