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

// TestPingsEveryThreeSeconds checks the default keepalive: pings carry
// the Unix time and come 3 s apart.
func TestPingsEveryThreeSeconds(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	c := e.dial(st, 1)
	var at []time.Time
	for len(at) < 3 {
		m, err := c.Next(5*time.Second, false)
		require.NoError(t, err)
		require.Equal(t, "ping", m.Type)
		require.Regexp(t, `^\{"type":"ping","message":\d{10}\}$`, string(m.Raw))
		at = append(at, time.Now())
	}
	for i := 1; i < len(at); i++ {
		require.InDelta(t, 3.0, at[i].Sub(at[i-1]).Seconds(), 0.5)
	}
}

// TestIdentifierEchoedAndRepeatedSubscribe uses an identifier no encoder
// would produce (odd order, spacing, escapes): replies and broadcasts
// carry it byte for byte, and a repeated subscribe is confirmed again.
func TestIdentifierEchoedAndRepeatedSubscribe(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	c := e.dial(st, 1)
	odd := `{ "id" : "7",  "channel":"Conversation\u0043hannel" }`
	literal := `"{ \"id\" : \"7\",  \"channel\":\"Conversation\\u0043hannel\" }"`
	cmd := `{"command":"subscribe","identifier":` + literal + `}`
	for i := 0; i < 3; i++ {
		require.NoError(t, c.Send([]byte(cmd)))
		m := next(t, c)
		require.Equal(t, `{"identifier":`+literal+`,"type":"confirm_subscription"}`, string(m.Raw))
		require.Equal(t, odd, m.Identifier)
	}
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	m := next(t, c)
	require.True(t, strings.HasPrefix(string(m.Raw), `{"identifier":`+literal+`,"message":{`), string(m.Raw))

	// Unsubscribing ends delivery.
	require.NoError(t, c.Send([]byte(`{"command":"unsubscribe","identifier":`+literal+`}`)))
	require.Eventually(t, func() bool {
		return e.metric("chatterly_edge_subscriptions", `channel="ConversationChannel"`) == 0
	}, 2*time.Second, 10*time.Millisecond)
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 2})
	quiet(t, c, 300*time.Millisecond)
}

func TestMalformedCommandsAreCountedThenDisconnect(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_INVALID": "5"})
	st.member(7, 1)
	c := e.dial(st, 1)
	bad := [][]byte{
		[]byte(`nope`),
		[]byte(`{"command":"subscribe"}`),
		[]byte(`{"command":"message","identifier":"{\"channel\":\"ConversationChannel\",\"id\":\"7\"}","data":"{\"action\":\"typing\"}"}`), // not subscribed
	}
	for _, b := range bad {
		require.NoError(t, c.Send(b))
	}
	// Ignored, not fatal: the socket still works.
	require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))
	require.Equal(t, float64(3), e.metric("chatterly_edge_invalid_commands_total", ""))
	var burst []byte // one write, so the edge reads it all before it closes
	for i := 0; i < 5; i++ {
		burst = cable.AppendClientFrame(burst, cable.OpText, []byte(`{]`))
	}
	_, err := c.NetConn().Write(burst)
	require.NoError(t, err)
	expectDisconnect(t, c, "invalid_request", false)
}

func TestFrames(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_MESSAGE_BYTES": "2048", "EDGE_MAX_SIGNAL_BYTES": "1024"})
	st.member(7, 1)
	c := e.dial(st, 1)

	// A command split into three fragments is one command.
	cmd := cable.Command("subscribe", convIdent(7), "")
	require.NoError(t, c.NetConn().SetWriteDeadline(time.Now().Add(time.Second)))
	frag := func(op byte, fin bool, p []byte) []byte {
		f := cable.AppendClientFrame(nil, op, p)
		if !fin {
			f[0] &^= 0x80
		}
		return f
	}
	_, err := c.NetConn().Write(append(append(frag(cable.OpText, false, cmd[:5]), frag(cable.OpContinuation, false, cmd[5:20])...),
		frag(cable.OpContinuation, true, cmd[20:])...))
	require.NoError(t, err)
	require.Equal(t, "confirm_subscription", next(t, c).Type)

	// A ping is answered with a pong carrying its payload.
	require.NoError(t, c.WriteFrame(cable.OpPing, []byte("hi")))
	for {
		op, p, err := c.ReadFrame(2 * time.Second)
		require.NoError(t, err)
		if op == cable.OpPong {
			require.Equal(t, "hi", string(p))
			break
		}
	}

	// A frame over the limit is refused by its header: invalid_request,
	// then a close frame with 1009.
	require.NoError(t, c.Send([]byte(`{"command":"message","identifier":"x","data":"`+strings.Repeat("a", 3000)+`"}`)))
	m := next(t, c)
	require.Equal(t, "disconnect", m.Type)
	require.Equal(t, "invalid_request", m.Reason)
	op, p, err := c.ReadFrame(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, cable.OpClose, op)
	require.Equal(t, []byte{0x03, 0xF1}, p)
}

func TestClientCloseIsAnswered(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	c := e.dial(st, 1)
	require.NoError(t, c.WriteFrame(cable.OpClose, []byte{0x03, 0xE8}))
	for {
		op, p, err := c.ReadFrame(2 * time.Second)
		require.NoError(t, err)
		if op == cable.OpClose {
			require.Equal(t, []byte{0x03, 0xE8}, p)
			break
		}
	}
	require.Eventually(t, func() bool { return e.metric("chatterly_edge_sockets_open", "") == 0 }, 2*time.Second, 10*time.Millisecond)
}

func TestSubscriptionAndCommandLimits(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_SUBSCRIPTIONS": "2", "EDGE_COMMAND_RATE": "5",
		"EDGE_COMMAND_BURST": "10", "EDGE_MAX_INVALID": "3"})
	c := e.dial(st, 1)
	require.Equal(t, "confirm_subscription", subscribe(t, c, cable.Identifier("PresenceChannel")))
	require.Equal(t, "confirm_subscription", subscribe(t, c, cable.Identifier("CallChannel")))
	st.member(7, 1)
	require.Equal(t, "reject_subscription", subscribe(t, c, convIdent(7)), "third subscription")
	require.Equal(t, "reject_subscription", subscribe(t, c, cable.Identifier("NoSuchChannel")))

	// A burst far over the command rate: dropped and struck, then cut off.
	var burst []byte
	for i := 0; i < 40; i++ {
		burst = cable.AppendClientFrame(burst, cable.OpText, cable.Command("unsubscribe", cable.Identifier("Nothing"), ""))
	}
	_, err := c.NetConn().Write(burst)
	require.NoError(t, err)
	expectDisconnect(t, c, "invalid_request", false)
	require.Positive(t, e.metric("chatterly_edge_actions_dropped_total", `reason="command_rate"`))
}
