package cable

import (
	"encoding/binary"
	"testing"
)

// The codec's hot paths, one op per command, frame or broadcast, with
// allocations counted: a regression shows here (compare runs with
// benchstat) before it shows in bench/'s delivery and handshake rows.
// Each benchmark first checks that its input takes the path it means to
// measure, so it cannot time an error return.

var (
	benchSubscribe = []byte(`{"command":"subscribe","identifier":"{\"channel\":\"ConversationChannel\",\"id\":\"7340032000000001\"}"}`)
	benchTyping    = []byte(`{"command":"message","identifier":"{\"channel\":\"ConversationChannel\",\"id\":\"7340032000000001\"}","data":"{\"action\":\"typing\"}"}`)
	benchIdent     = []byte(`"{\"channel\":\"ConversationChannel\",\"id\":\"7340032000000001\"}"`)
	benchEnvelope  = []byte(`{"type":"message.created","conversation_id":"7340032000000001","seq":42,"at":"2026-12-03T17:00:00.123Z",` +
		`"data":{"id":"7340032000000099","conversation_id":"7340032000000001","user_id":"7340032000000005","body":"hello, world: a message of an ordinary length","created_at":"2026-12-03T17:00:00.123Z"}}`)
)

func BenchmarkParseCommandSubscribe(b *testing.B) {
	if c, err := ParseCommand(benchSubscribe); err != nil || c.Kind != Subscribe {
		b.Fatalf("subscribe parsed as %+v, %v", c, err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchSubscribe)))
	for b.Loop() {
		_, _ = ParseCommand(benchSubscribe)
	}
}

// A typing action, the most frequent command a client sends once
// subscribed: command, identifier and data, then the action inside data.
func BenchmarkParseCommandAction(b *testing.B) {
	c, err := ParseCommand(benchTyping)
	if err != nil || c.Kind != Message {
		b.Fatalf("message parsed as %+v, %v", c, err)
	}
	if a, err := ParseAction(c.Data); err != nil || a.Name != "typing" {
		b.Fatalf("action parsed as %+v, %v", a, err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchTyping)))
	for b.Loop() {
		c, _ := ParseCommand(benchTyping)
		_, _ = ParseAction(c.Data)
	}
}

func BenchmarkParseIdentifier(b *testing.B) {
	c, _ := ParseCommand(benchSubscribe)
	if _, err := ParseIdentifier(c.Params); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseIdentifier(c.Params)
	}
}

// NextFrame and Unmask on a masked client text frame, as the edge reads
// every inbound frame.
func BenchmarkNextFrameUnmask(b *testing.B) {
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	wire := []byte{0x80 | OpText, 0x80 | 126, 0, 0}
	binary.BigEndian.PutUint16(wire[2:], uint16(len(benchTyping)))
	wire = append(wire, mask[:]...)
	at := len(wire)
	wire = append(wire, benchTyping...)
	Unmask(wire[at:], mask, 0)
	payload := make([]byte, len(benchTyping))
	h, p, n, err := NextFrame(wire, 1<<16)
	if err != nil || n != len(wire) || len(p) != len(benchTyping) || !h.Fin {
		b.Fatalf("frame read as %+v (%d of %d bytes), %v", h, n, len(wire), err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		h, p, _, _ := NextFrame(wire, 1<<16)
		copy(payload, p)
		Unmask(payload, h.Mask, 0)
	}
}

// One broadcast frame: what the hub encodes once per (event, identifier)
// and then writes to every subscriber of the topic.
func BenchmarkAppendBroadcast(b *testing.B) {
	dst := make([]byte, 0, BroadcastLen(benchIdent, benchEnvelope))
	if got := AppendBroadcast(dst, benchIdent, benchEnvelope); len(got) != BroadcastLen(benchIdent, benchEnvelope) {
		b.Fatalf("broadcast of %d bytes, BroadcastLen says %d", len(got), BroadcastLen(benchIdent, benchEnvelope))
	}
	b.ReportAllocs()
	b.SetBytes(int64(cap(dst)))
	for b.Loop() {
		dst = AppendBroadcast(dst[:0], benchIdent, benchEnvelope)
	}
}

// The ping every socket gets every 3 s.
func BenchmarkAppendPing(b *testing.B) {
	dst := AppendPing(nil, 1764781200)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendPing(dst[:0], 1764781200)
	}
}
