package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// timedSubscribe subscribes and returns the reply's type and how long it
// took.
func timedSubscribe(t *testing.T, c *cable.Conn, ident string) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	typ := subscribe(t, c, ident)
	return typ, time.Since(start)
}

// TestEverySubscribeIsAnswered: an identifier over 512 bytes and a
// conversation that does not exist are both answered reject_subscription
// (the official client re-sends an unanswered subscribe forever), within a
// second.
func TestEverySubscribeIsAnswered(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_REDIS_TIMEOUT": "400ms"})
	c := e.dial(st, 1)
	long := cable.Identifier("ConversationChannel", "id", "7", "pad", strings.Repeat("x", 600))
	require.Equal(t, "reject_subscription", subscribe(t, c, long))
	typ, took := timedSubscribe(t, c, convIdent(404))
	require.Equal(t, "reject_subscription", typ)
	require.Less(t, took, time.Second)
}

// TestMissingAndForbiddenConversationsLookAlike: a private conversation
// the caller is not in and one that does not exist are rejected alike and
// at the same moment (EDGE_REDIS_TIMEOUT after the subscribe), so the
// answer does not reveal which conversations exist; a member is confirmed
// at once.
func TestMissingAndForbiddenConversationsLookAlike(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_REDIS_TIMEOUT": "400ms"})
	st.member(7, 1)
	c := e.dial(st, 2)
	for i := 0; i < 2; i++ { // the second round is answered from the edge's cache
		forbidden, tf := timedSubscribe(t, c, convIdent(7))
		missing, tm := timedSubscribe(t, c, convIdent(9))
		require.Equal(t, "reject_subscription", forbidden)
		require.Equal(t, "reject_subscription", missing)
		t.Logf("round %d: forbidden rejected after %s, missing after %s", i, tf, tm)
		for _, d := range []time.Duration{tf, tm} {
			require.GreaterOrEqual(t, d, 400*time.Millisecond, "held to EDGE_REDIS_TIMEOUT")
			require.Less(t, d, time.Second)
		}
	}
	member := e.dial(st, 1)
	typ, took := timedSubscribe(t, member, convIdent(7))
	require.Equal(t, "confirm_subscription", typ)
	require.Less(t, took, 400*time.Millisecond)
}

// TestAMissingMemberSetBuiltInTimeIsConfirmed: the edge asks a missing
// member set again until it answers; a set the api builds meanwhile (it
// rebuilds a lost one when it serves the conversation) confirms the member.
func TestAMissingMemberSetBuiltInTimeIsConfirmed(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	// A long timeout: the test is of the retry, and a member is confirmed
	// as soon as the set is there, so it costs no time.
	e := st.start(map[string]string{"EDGE_REDIS_TIMEOUT": "5s"})
	c := e.dial(st, 1)
	require.NoError(t, c.Subscribe(convIdent(8)))
	quiet(t, c, 300*time.Millisecond)
	st.member(8, 1)
	m := next(t, c)
	require.Equal(t, "confirm_subscription", m.Type, string(m.Raw))
}

// TestOneSubscriptionPerTopic: other spellings of a topic the socket holds
// (member order, whitespace, escapes, extra params) are rejected, the same
// spelling is confirmed again, and each event arrives once.
func TestOneSubscriptionPerTopic(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	c := e.dial(st, 1)
	first := convIdent(7)
	require.Equal(t, "confirm_subscription", subscribe(t, c, first))
	for _, other := range []string{
		`{"id":"7","channel":"ConversationChannel"}`,
		`{"channel": "ConversationChannel", "id": "7"}`,
		`{"channel":"Conversation\u0043hannel","id":"7"}`,
		cable.Identifier("ConversationChannel", "id", "7", "x", "1"),
	} {
		require.Equal(t, "reject_subscription", subscribe(t, c, other), other)
	}
	require.Equal(t, "confirm_subscription", subscribe(t, c, first), "the same spelling again")
	require.Equal(t, "confirm_subscription", subscribe(t, c, cable.Identifier("CallChannel")))
	require.Equal(t, "reject_subscription", subscribe(t, c, `{"channel":"CallChannel","v":2}`))
	require.Equal(t, "confirm_subscription", subscribe(t, c, cable.Identifier("PresenceChannel")))
	require.Equal(t, "reject_subscription", subscribe(t, c, `{ "channel":"PresenceChannel"}`))

	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	m := next(t, c)
	require.Equal(t, first, m.Identifier)
	require.Equal(t, int64(1), envelope(t, m).Seq)
	quiet(t, c, 300*time.Millisecond)
}

// TestCloseCodesAreAnswered: a client's close is answered with its own
// code when a peer may send that code, and with 1002 (protocol error) when
// not (RFC 6455 §7.4), never echoed blindly.
func TestCloseCodesAreAnswered(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	for _, tc := range []struct {
		sent []byte
		want []byte
	}{
		{[]byte{0x03, 0xE7}, []byte{0x03, 0xEA}},           // 999 → 1002
		{[]byte{0x03, 0xEC}, []byte{0x03, 0xEA}},           // 1004 → 1002
		{[]byte{0x03, 0xEE}, []byte{0x03, 0xEA}},           // 1006 → 1002
		{[]byte{0x13, 0x88}, []byte{0x03, 0xEA}},           // 5000 → 1002
		{[]byte{0x03}, []byte{0x03, 0xEA}},                 // one byte → 1002
		{nil, []byte{0x03, 0xE8}},                          // none → 1000
		{[]byte{0x0B, 0xB8, 'o', 'k'}, []byte{0x0B, 0xB8}}, // 3000 → 3000
		{[]byte{0x03, 0xE8, 0xFF}, []byte{0x03, 0xEF}},     // a reason not UTF-8 → 1007
	} {
		c := e.dial(st, 1)
		require.NoError(t, c.WriteFrame(cable.OpClose, tc.sent))
		for {
			op, p, err := c.ReadFrame(2 * time.Second)
			require.NoError(t, err)
			if op == cable.OpClose {
				require.Equal(t, tc.want, p, "sent %x", tc.sent)
				break
			}
		}
	}
}
