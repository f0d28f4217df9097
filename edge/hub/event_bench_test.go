package hub

import (
	"testing"

	"github.com/chatterly/chatterly/edge/cable"
)

// benchEntry is a message.created envelope of an ordinary size, as the
// api appends it.
var benchEntry = []byte(`{"type":"message.created","conversation_id":"7","seq":42,"at":"2026-12-03T17:00:00.123Z",` +
	`"data":{"id":"7340032000000099","conversation_id":"7","user_id":"7340032000000005","body":"hello, world: a message of an ordinary length","created_at":"2026-12-03T17:00:00.123Z"}}`)

// BenchmarkEventFrame is the edge's per-event work before fan-out: read
// the routing head of a stream entry (NewEvent) and encode its broadcast
// frame once for the subscribers' identifier (Event.frame). Fan-out itself
// is BenchmarkDeliver.
func BenchmarkEventFrame(b *testing.B) {
	var in Interner
	ident := in.Intern([]byte(convIdent))
	e, err := NewEvent("conv:7", benchEntry, "1764781200123-0")
	if err != nil || e.Seq != 42 || e.Channel != cable.ConversationChannel {
		b.Fatalf("entry read as %+v, %v", e, err)
	}
	if f := e.frame(ident); len(f) != cable.BroadcastLen(ident.Raw, benchEntry) {
		b.Fatalf("frame of %d bytes", len(f))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEntry)))
	for b.Loop() {
		e, _ := NewEvent("conv:7", benchEntry, "1764781200123-0")
		_ = e.frame(ident)
	}
}
