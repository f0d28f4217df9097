package conformance

import (
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

func TestWelcomeSubscribeAndDeliver(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	c := e.dial(st, 1)
	require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	m := next(t, c)
	require.Equal(t, convIdent(7), m.Identifier)
	env := envelope(t, m)
	require.Equal(t, int64(1), env.Seq)
}

// TestMetricsAreServed checks the edge's metrics are all on /metrics.
func TestMetricsAreServed(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	c := e.dial(st, 1)
	require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	next(t, c)
	require.Eventually(t, func() bool { return e.metric("chatterly_edge_frames_delivered_total", "") == 1 },
		2*time.Second, 10*time.Millisecond)
	for _, name := range []string{
		"chatterly_edge_sockets_open", "chatterly_edge_handshakes_total", "chatterly_edge_subscriptions",
		"chatterly_edge_events_consumed_total", "chatterly_edge_delivery_lag_seconds_count",
		"chatterly_edge_disconnects_total", "chatterly_edge_stream_lag_seconds", "chatterly_edge_invalid_commands_total",
	} {
		require.Regexp(t, "(?m)^"+name+"[ {]", e.metricsText(), "metric %s", name)
	}
	require.Equal(t, float64(1), e.metric("chatterly_edge_sockets_open", ""))
	require.Equal(t, float64(1), e.metric("chatterly_edge_handshakes_total", `outcome="ok"`))
	require.Equal(t, float64(1), e.metric("chatterly_edge_subscriptions", `channel="ConversationChannel"`))
	require.Equal(t, float64(1), e.metric("chatterly_edge_delivery_lag_seconds_count", ""))
	require.Equal(t, float64(0), e.metric("chatterly_edge_disconnects_total", `reason="too_slow"`))
}
