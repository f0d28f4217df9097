package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// TestSendSignalReachesThePeerOnAnotherEdge: alice and bob are on
// different edge nodes; the call's participant set is seeded as the api
// keeps it. Signals reach the other participant only; a non-participant's
// and an oversized one are dropped; the user topic's other events (call
// lifecycle, read markers) arrive on CallChannel too.
func TestSendSignalReachesThePeerOnAnotherEdge(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	env := map[string]string{"EDGE_MAX_SIGNAL_BYTES": "2048"}
	e1, e2 := st.start(env), st.start(env)
	call := cable.Identifier("CallChannel")
	alice, bob, carol := e1.dial(st, 1), e2.dial(st, 2), e1.dial(st, 3)
	for _, c := range []*cable.Conn{alice, bob, carol} {
		require.Equal(t, "confirm_subscription", subscribe(t, c, call))
	}
	require.NoError(t, st.rdb.Do(context.Background(), st.rdb.B().Sadd().Key(st.keys.CallParticipants(9)).Member("1", "2").Build()).Error())

	require.NoError(t, alice.Perform(call, `{"action":"send_signal","call_id":"9","to":"2","kind":"offer","payload":{"type":"offer","sdp":"v=0\r\n"}}`))
	m := next(t, bob)
	require.Equal(t, call, m.Identifier)
	env2 := envelope(t, m)
	require.Equal(t, event.CallSignal, env2.Type)
	require.JSONEq(t, `{"call_id":"9","from":"1","kind":"offer","payload":{"type":"offer","sdp":"v=0\r\n"}}`, string(env2.Data))

	require.NoError(t, bob.Perform(call, `{"action":"send_signal","call_id":"9","to":"1","kind":"answer","payload":{"sdp":"x"}}`))
	require.Equal(t, event.CallSignal, envelope(t, next(t, alice)).Type)

	// carol is not in the call; an oversized payload; an unknown kind.
	require.NoError(t, carol.Perform(call, `{"action":"send_signal","call_id":"9","to":"2","kind":"ice","payload":{"candidate":"c"}}`))
	require.NoError(t, alice.Perform(call, `{"action":"send_signal","call_id":"9","to":"2","kind":"ice","payload":"`+strings.Repeat("a", 3000)+`"}`))
	require.NoError(t, alice.Perform(call, `{"action":"send_signal","call_id":"9","to":"2","kind":"hello","payload":{}}`))
	quiet(t, bob, 500*time.Millisecond)
	require.Equal(t, float64(1), e1.metric("chatterly_edge_actions_dropped_total", `reason="not_participant"`))
	require.Equal(t, float64(1), e1.metric("chatterly_edge_actions_dropped_total", `reason="signal_too_large"`))

	// Lifecycle events and read markers on the user's topic.
	st.publish(rkey.UserTopic(2), event.Envelope{Type: event.CallIncoming, Data: []byte(`{"id":"9","status":"ringing"}`)})
	st.publish(rkey.UserTopic(2), event.Envelope{Type: event.ReadUpdated, Data: []byte(`{"conversation_id":"7","last_read_message_id":"5"}`)})
	require.Equal(t, event.CallIncoming, envelope(t, next(t, bob)).Type)
	require.Equal(t, event.ReadUpdated, envelope(t, next(t, bob)).Type)
	quiet(t, alice, 200*time.Millisecond)

	// The call ends: the api deletes the set, and signals stop.
	require.NoError(t, st.rdb.Do(context.Background(), st.rdb.B().Del().Key(st.keys.CallParticipants(9)).Build()).Error())
	require.Eventually(t, func() bool {
		_ = alice.Perform(call, `{"action":"send_signal","call_id":"9","to":"2","kind":"ice","payload":{}}`)
		return e1.metric("chatterly_edge_actions_dropped_total", `reason="not_participant"`) >= 2
	}, 3*time.Second, 50*time.Millisecond)
	_ = id.ID(0)
}
