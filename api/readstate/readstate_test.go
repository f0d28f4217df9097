package readstate_test

import (
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

type state struct {
	ConversationID    string `json:"conversation_id"`
	LastReadMessageID string `json:"last_read_message_id"`
	UnreadCount       int    `json:"unread_count"`
}

func TestMarkerMovesForwardOnlyAndGoesToTheReaderAlone(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	var sent []convtest.Message
	for range 4 {
		sent = append(sent, convtest.Send(t, s, ann, g.ID, "news"))
	}
	read := func(m convtest.Message) state {
		r := s.Do("POST", "/conversations/"+g.ID.String()+"/read", bob.Token, map[string]any{"message_id": m.ID.String()})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var st state
		r.JSON(t, &st)
		return st
	}
	st := read(sent[2])
	require.Equal(t, sent[2].ID.String(), st.LastReadMessageID)
	require.Equal(t, 1, st.UnreadCount)
	st = read(sent[0])
	require.Equal(t, sent[2].ID.String(), st.LastReadMessageID, "a marker never moves back")
	list := convtest.Get[convtest.Page[convtest.Conversation]](t, s, bob, "/conversations")
	require.Equal(t, 1, list.Items[0].UnreadCount)
	st = read(sent[3])
	require.Zero(t, st.UnreadCount)

	// read.updated goes to bob's own topic only, with no seq, and never
	// to the conversation.
	mine := convtest.Stream(t, s, rkey.UserTopic(bob.ID))
	require.Len(t, mine, 2, "one per move; the backward mark moved nothing")
	for _, e := range mine {
		require.Equal(t, event.ReadUpdated, e.Env.Type)
		require.Zero(t, e.Env.Seq)
		require.NotContains(t, string(e.Env.Data), "unread_count", "counts are per request, not events")
	}
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		require.NotEqual(t, event.ReadUpdated, e.Env.Type)
	}
	require.Empty(t, convtest.Stream(t, s, rkey.UserTopic(ann.ID)))

	other := convtest.Create(t, s, ann, "group", "other")
	elsewhere := convtest.Send(t, s, ann, other.ID, "elsewhere")
	r := s.Do("POST", "/conversations/"+g.ID.String()+"/read", bob.Token, map[string]any{"message_id": elsewhere.ID.String()})
	require.Equal(t, http.StatusBadRequest, r.Status, "the message must be of this conversation")
	r = s.Do("POST", "/conversations/"+g.ID.String()+"/read", bob.Token, map[string]any{})
	require.Equal(t, http.StatusBadRequest, r.Status)
}
