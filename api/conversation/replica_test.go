package conversation_test

import (
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/stretchr/testify/require"
)

// A "replica" that never catches up (a second, empty database) shows which
// reads go to DATABASE_REPLICA_URL: those that need not see the caller's own
// writes. Every read that must see them still does.
func TestReadsThatMustSeeOwnWritesNeverGoToTheReplica(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"DATABASE_REPLICA_URL": pgtest.URL(t)})
	ann := convtest.NewUser(t, s, "ann")
	ch := convtest.Create(t, s, ann, "channel", "fresh")
	first := convtest.Send(t, s, ann, ch.ID, "first")
	convtest.Send(t, s, ann, ch.ID, "second")

	// Own writes, seen at once: the list, the conversation, the newest
	// page, what came after a message, the thread, the log.
	list := convtest.Get[convtest.Page[convtest.Conversation]](t, s, ann, "/conversations")
	require.Len(t, list.Items, 1)
	convtest.Get[convtest.Conversation](t, s, ann, path(ch.ID))
	require.Len(t, convtest.Get[convtest.Page[convtest.Message]](t, s, ann, path(ch.ID, "/messages")).Items, 2)
	require.Len(t, convtest.Get[convtest.Page[convtest.Message]](t, s, ann, path(ch.ID, "/messages?after="+first.ID.String())).Items, 1)
	require.Equal(t, http.StatusOK, s.Do("GET", "/messages/"+first.ID.String()+"/replies", ann.Token, nil).Status)
	require.NotEmpty(t, convtest.Get[convtest.Page[struct{ Seq int64 }]](t, s, ann, path(ch.ID, "/events")).Items)

	// Browsing, member lists, older pages and the directory may lag.
	require.Empty(t, convtest.Get[convtest.Page[convtest.Conversation]](t, s, ann, "/channels").Items)
	require.Empty(t, convtest.Get[convtest.Page[member]](t, s, ann, path(ch.ID, "/members")).Items)
	require.Empty(t, convtest.Get[convtest.Page[convtest.Message]](t, s, ann, path(ch.ID, "/messages?before="+s.Deps.IDs.Next().String())).Items)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/users/"+ann.ID.String(), ann.Token, nil).Status)
}

func TestConversationCreationIsRateLimited(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_CONVERSATIONS": "2"})
	ann := convtest.NewUser(t, s, "ann")
	convtest.Create(t, s, ann, "group", "one")
	convtest.Create(t, s, ann, "group", "two")
	r := s.Do("POST", "/conversations", ann.Token, map[string]any{"kind": "group", "name": "three"})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.NotEmpty(t, r.Header.Get("Retry-After"))
}
