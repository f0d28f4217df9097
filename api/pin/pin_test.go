package pin_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

type pinJSON struct {
	ConversationID id.ID             `json:"conversation_id"`
	MessageID      id.ID             `json:"message_id"`
	PinnedBy       id.ID             `json:"pinned_by"`
	PinnedAt       time.Time         `json:"pinned_at"`
	Message        *convtest.Message `json:"message"`
}

// Members pin and unpin any message of their conversation for everyone;
// pinning twice or unpinning what is not pinned changes nothing; each
// change is an event of the log; whoever reads the conversation sees its
// pins, newest first, each with its message, and a group's pins do not
// exist for outsiders.
func TestPins(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	first := convtest.Send(t, s, ann, g.ID, "first")
	second := convtest.Send(t, s, bob, g.ID, "second")
	pins := "/conversations/" + g.ID.String() + "/pins"
	pinPath := func(m convtest.Message) string { return "/messages/" + m.ID.String() + "/pin" }

	r := s.Do("POST", pinPath(first), bob.Token, nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var p pinJSON
	r.JSON(t, &p)
	require.Equal(t, g.ID, p.ConversationID)
	require.Equal(t, first.ID, p.MessageID)
	require.Equal(t, bob.ID, p.PinnedBy)
	require.Nil(t, p.Message, "the pin resource carries no message")
	again := s.Do("POST", pinPath(first), ann.Token, nil)
	require.Equal(t, http.StatusOK, again.Status, "pinning a pinned message is a no-op")
	require.JSONEq(t, string(r.Body), string(again.Body), "and answers the existing pin")
	require.Equal(t, http.StatusCreated, s.Do("POST", pinPath(second), ann.Token, nil).Status)

	list := convtest.Get[convtest.Page[pinJSON]](t, s, bob, pins)
	require.Nil(t, list.NextCursor)
	require.Len(t, list.Items, 2)
	require.Equal(t, second.ID, list.Items[0].MessageID, "newest pin first")
	require.Equal(t, "second", *list.Items[0].Message.Body)
	require.Equal(t, "first", *list.Items[1].Message.Body)
	page := convtest.Get[convtest.Page[pinJSON]](t, s, ann, pins+"?limit=1")
	require.Len(t, page.Items, 1)
	require.NotNil(t, page.NextCursor)
	page = convtest.Get[convtest.Page[pinJSON]](t, s, ann, pins+"?limit=1&cursor="+*page.NextCursor)
	require.Len(t, page.Items, 1)
	require.Equal(t, first.ID, page.Items[0].MessageID)
	require.Nil(t, page.NextCursor)

	// Outsiders of a group: its messages and pins do not exist for them.
	require.Equal(t, http.StatusNotFound, s.Do("POST", pinPath(first), eve.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("DELETE", pinPath(first), eve.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", pins, eve.Token, nil).Status)

	require.Equal(t, http.StatusNoContent, s.Do("DELETE", pinPath(first), ann.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", pinPath(first), ann.Token, nil).Status, "unpinning twice is a no-op")
	// A deleted message's pin is no longer listed, and it cannot be pinned.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+second.ID.String(), bob.Token, nil).Status)
	require.Empty(t, convtest.Get[convtest.Page[pinJSON]](t, s, ann, pins).Items)
	r = s.Do("POST", pinPath(second), ann.Token, nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, "conflict", r.Code())

	// The log holds each change once, with the pin as its data.
	var types []string
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		if e.Env.Type == event.PinAdded || e.Env.Type == event.PinRemoved {
			require.NotZero(t, e.Env.Seq)
			require.Contains(t, string(e.Env.Data), `"message_id":"`)
			require.NotContains(t, string(e.Env.Data), `"message":`)
			types = append(types, e.Env.Type)
		}
	}
	require.Equal(t, []string{event.PinAdded, event.PinAdded, event.PinRemoved}, types)
	replay := convtest.Get[convtest.Page[event.Envelope]](t, s, bob, "/conversations/"+g.ID.String()+"/events?after_seq=0")
	n := 0
	for _, e := range replay.Items {
		if e.Type == event.PinAdded || e.Type == event.PinRemoved {
			n++
		}
	}
	require.Equal(t, 3, n, "the events endpoint replays them")

	// A channel: its outsiders read the pins but pin nothing until they join.
	ch := convtest.Create(t, s, ann, "channel", "pinned")
	cm := convtest.Send(t, s, ann, ch.ID, "read me")
	require.Equal(t, http.StatusCreated, s.Do("POST", "/messages/"+cm.ID.String()+"/pin", ann.Token, nil).Status)
	require.Len(t, convtest.Get[convtest.Page[pinJSON]](t, s, eve, "/conversations/"+ch.ID.String()+"/pins").Items, 1)
	r = s.Do("POST", "/messages/"+cm.ID.String()+"/pin", eve.Token, nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusForbidden, s.Do("DELETE", "/messages/"+cm.ID.String()+"/pin", eve.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/messages/12345/pin", ann.Token, nil).Status)
	require.Equal(t, "validation_failed", s.Do("GET", pins+"?cursor=x", ann.Token, nil).Code())
}
