package cable

import (
	"strconv"
)

// Reason is why the server closes a connection. The official client only
// logs it; reconnect is what decides whether it tries again.
type Reason string

// The reasons of PROTOCOL.md, and Unavailable: the edge could not check
// the connection's token because a dependency (the denylist in Redis) did
// not answer within EDGE_REDIS_TIMEOUT. The denylist fails closed, so the
// socket is refused, with reconnect true: the client's reconnect backoff
// tries again, with the same token, once Redis is back.
const (
	Unauthorized   Reason = "unauthorized"
	TokenExpired   Reason = "token_expired"
	InvalidRequest Reason = "invalid_request"
	ServerRestart  Reason = "server_restart"
	TooSlow        Reason = "too_slow"
	Remote         Reason = "remote"
	Unavailable    Reason = "unavailable"
)

// Reasons lists every Reason.
var Reasons = []Reason{Unauthorized, TokenExpired, InvalidRequest, ServerRestart, TooSlow, Remote, Unavailable}

// Reconnect is whether a client should reconnect after a disconnect with
// reason r: never for a credential or protocol problem (the official
// client would retry forever), always for the server's own reasons.
func (r Reason) Reconnect() bool {
	switch r {
	case Unauthorized, TokenExpired, InvalidRequest:
		return false
	}
	return true
}

// The server's messages are built once as whole frames where they do not
// vary (welcome, disconnects) and otherwise appended to a caller's buffer.

// Welcome is the frame sent when a connection is accepted.
var Welcome = AppendText(nil, []byte(`{"type":"welcome"}`))

// DisconnectFrame returns the frame telling the client why it is closed.
func DisconnectFrame(r Reason) []byte {
	p := make([]byte, 0, 64)
	p = append(p, `{"type":"disconnect","reason":"`...)
	p = append(p, r...)
	p = append(p, `","reconnect":`...)
	p = strconv.AppendBool(p, r.Reconnect())
	p = append(p, '}')
	return AppendText(nil, p)
}

// AppendText appends payload as one text frame.
func AppendText(dst, payload []byte) []byte { return AppendFrame(dst, OpText, payload) }

// AppendPing appends the keepalive message {"type":"ping","message":unix}.
func AppendPing(dst []byte, unix int64) []byte {
	var num [20]byte
	n := strconv.AppendInt(num[:0], unix, 10)
	dst = AppendHeader(dst, OpText, len(`{"type":"ping","message":}`)+len(n))
	dst = append(dst, `{"type":"ping","message":`...)
	dst = append(dst, n...)
	return append(dst, '}')
}

const (
	confirmTail = `,"type":"confirm_subscription"}`
	rejectTail  = `,"type":"reject_subscription"}`
	identHead   = `{"identifier":`
	messageMid  = `,"message":`
)

// AppendConfirm appends confirm_subscription for the identifier literal ident.
func AppendConfirm(dst, ident []byte) []byte { return appendIdentMsg(dst, ident, confirmTail) }

// AppendReject appends reject_subscription for the identifier literal ident.
func AppendReject(dst, ident []byte) []byte { return appendIdentMsg(dst, ident, rejectTail) }

func appendIdentMsg(dst, ident []byte, tail string) []byte {
	dst = AppendHeader(dst, OpText, len(identHead)+len(ident)+len(tail))
	dst = append(dst, identHead...)
	dst = append(dst, ident...)
	return append(dst, tail...)
}

// BroadcastLen is the frame length of a broadcast of message under ident.
func BroadcastLen(ident, message []byte) int {
	n := len(identHead) + len(ident) + len(messageMid) + len(message) + 1
	return HeaderLen(n) + n
}

// AppendBroadcast appends {"identifier":ident,"message":message}: ident is
// the subscription's identifier literal as the client sent it and message
// an encoded event envelope, both copied as they are.
func AppendBroadcast(dst, ident, message []byte) []byte {
	n := len(identHead) + len(ident) + len(messageMid) + len(message) + 1
	dst = AppendHeader(dst, OpText, n)
	dst = append(dst, identHead...)
	dst = append(dst, ident...)
	dst = append(dst, messageMid...)
	dst = append(dst, message...)
	return append(dst, '}')
}
