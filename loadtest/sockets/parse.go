package sockets

import (
	"bytes"
	"strconv"
	"time"
)

// The bench tags every event it sends with a body "b:<phase>:<k>:<sent>":
// the phase that sent it, its index k in that phase, and its intended send
// time in Unix nanoseconds. Every process of the bench runs on one machine
// and reads the same clock, so a receiver's latency is now − sent.

// Tag renders the tag of event k of phase, due at sent.
func Tag(phase uint16, k uint32, sent time.Time) string {
	return "b:" + strconv.FormatUint(uint64(phase), 10) + ":" + strconv.FormatUint(uint64(k), 10) +
		":" + strconv.FormatInt(sent.UnixNano(), 10)
}

// TagOf reads the bench tag of an envelope (as a stream entry holds it):
// the phase and index k of the event, ok false when it has none.
func TagOf(envelope []byte) (phase uint16, k uint32, ok bool) {
	_, _, t := parseEnvelope(envelope)
	return t.phase, t.k, t.ok
}

// tag is a parsed bench tag.
type tag struct {
	phase uint16
	k     uint32
	sent  int64
	ok    bool
}

// frame kinds the socket loop tells apart.
type kind uint8

const (
	kindOther kind = iota
	kindPing
	kindWelcome
	kindConfirm
	kindReject
	kindDisconnect
	kindEvent
)

var (
	pPing       = []byte(`{"type":"ping"`)
	pWelcome    = []byte(`"type":"welcome"`)
	pConfirm    = []byte(`"type":"confirm_subscription"`)
	pReject     = []byte(`"type":"reject_subscription"`)
	pDisconnect = []byte(`"type":"disconnect"`)
	pMessage    = []byte(`"message":{`)
	pConv       = []byte(`"conversation_id":"`)
	pSeq        = []byte(`"seq":`)
	pBody       = []byte(`"body":"b:`)
	pIdentID    = []byte(`\"id\":\"`)
)

// classify names a server message without decoding it. Identifiers are
// JSON strings inside the message, so their quotes are escaped and cannot
// be mistaken for the message's own keys.
func classify(p []byte) kind {
	switch {
	case bytes.HasPrefix(p, pPing):
		return kindPing
	case bytes.Contains(p, pMessage):
		return kindEvent
	case bytes.Contains(p, pConfirm):
		return kindConfirm
	case bytes.Contains(p, pWelcome):
		return kindWelcome
	case bytes.Contains(p, pReject):
		return kindReject
	case bytes.Contains(p, pDisconnect):
		return kindDisconnect
	}
	return kindOther
}

// envelopeOf returns the envelope of a broadcast message.
func envelopeOf(p []byte) []byte {
	i := bytes.Index(p, pMessage)
	if i < 0 {
		return nil
	}
	return p[i+len(pMessage)-1:]
}

// parseEnvelope reads the fields the bench needs from an envelope: the
// conversation, the seq (0 for ephemeral events) and the bench tag. The
// envelope's own keys come first (type, conversation_id, seq, at, data), so
// the first match of each is the envelope's, not the resource's.
func parseEnvelope(env []byte) (conv, seq int64, t tag) {
	if i := bytes.Index(env, pConv); i >= 0 {
		conv, _ = digits(env[i+len(pConv):])
	}
	if i := bytes.Index(env, pSeq); i >= 0 {
		seq, _ = digits(env[i+len(pSeq):])
	}
	if i := bytes.Index(env, pBody); i >= 0 {
		t = parseTag(env[i+len(pBody):])
	}
	return conv, seq, t
}

// parseTag reads "<phase>:<k>:<sent>" up to the closing quote.
func parseTag(b []byte) tag {
	ph, n := digits(b)
	if n == 0 || n >= len(b) || b[n] != ':' || ph > 0xFFFF {
		return tag{}
	}
	b = b[n+1:]
	k, n := digits(b)
	if n == 0 || n >= len(b) || b[n] != ':' || k > 0xFFFFFFFF {
		return tag{}
	}
	b = b[n+1:]
	sent, n := digits(b)
	if n == 0 || n >= len(b) || b[n] != '"' {
		return tag{}
	}
	return tag{phase: uint16(ph), k: uint32(k), sent: sent, ok: true}
}

// identConv reads the conversation id of a ConversationChannel identifier
// inside a confirm or reject message.
func identConv(p []byte) int64 {
	i := bytes.Index(p, pIdentID)
	if i < 0 {
		return 0
	}
	v, _ := digits(p[i+len(pIdentID):])
	return v
}

// digits reads a run of decimal digits, returning the value and its length.
func digits(b []byte) (int64, int) {
	var v int64
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' && n < 19 {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n
}
