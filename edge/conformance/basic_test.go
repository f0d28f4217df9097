package conformance

import (
	"testing"

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
