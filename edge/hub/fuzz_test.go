package hub

import (
	"testing"
)

// FuzzNewEvent feeds the stream entry decoder arbitrary topics and
// envelopes: it must never panic, and what it accepts must be routable.
func FuzzNewEvent(f *testing.F) {
	f.Add("conv:7", []byte(msg(3)), "1700000000000-0")
	f.Add("conv:7", []byte(`{"type":"typing","conversation_id":"7","at":"2026-11-28T10:00:00.000Z","data":{"user_id":"1"}}`), "1-1")
	f.Add("user:1", []byte(`{"type":"session.revoked","data":{"user_id":"1","sid":"2"}}`), "x")
	f.Add("presence:1", []byte(`{"type":"presence","data":{"users":[]}}`), "")
	f.Add("conv:", []byte(`{"type":"member.left","seq":-1,"data":{"user_id":"0"}}`), "-")
	f.Fuzz(func(t *testing.T, topic string, env []byte, entryID string) {
		ev, err := NewEvent(topic, env, entryID)
		if err != nil {
			return
		}
		if ev.Channel == 0 || ev.Type == "" {
			t.Fatalf("accepted an unroutable event: %+v", ev)
		}
	})
}
