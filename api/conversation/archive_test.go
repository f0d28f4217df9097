package conversation_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// The owner or an admin archives a channel or group, which is then
// read-only: every write answers 409 conversation_archived, while members
// still read, mark read, have roles changed and leave. Archiving and
// unarchiving are events of the log; repeating either is a no-op; members
// cannot, outsiders find nothing, a DM is never archived.
func TestArchivedConversationIsReadOnly(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl, dan, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"),
		convtest.NewUser(t, s, "carl"), convtest.NewUser(t, s, "dan"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob, carl)
	require.Equal(t, http.StatusOK, s.Do("PATCH", path(g.ID, "/members/", bob.ID.String()), ann.Token, map[string]any{"role": "admin"}).Status)
	msg := convtest.Send(t, s, carl, g.ID, "before the archive")
	archive := func(u convtest.User, method string) *apitest.Response {
		return s.Do(method, path(g.ID, "/archive"), u.Token, nil)
	}
	type archived struct {
		ArchivedAt *string `json:"archived_at"`
		Role       string  `json:"role"`
	}

	require.Equal(t, http.StatusForbidden, archive(carl, "POST").Status, "a member cannot")
	require.Equal(t, http.StatusNotFound, archive(eve, "POST").Status, "an outsider finds nothing")
	r := archive(bob, "POST")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var a archived
	r.JSON(t, &a)
	require.NotNil(t, a.ArchivedAt)
	require.Equal(t, "admin", a.Role, "the caller's view")
	require.Equal(t, http.StatusOK, archive(ann, "POST").Status, "again: a no-op")
	require.NotNil(t, convtest.Get[archived](t, s, carl, path(g.ID)).ArchivedAt, "every member sees it")

	refused := map[string]*apitest.Response{
		"send":   s.Do("POST", path(g.ID, "/messages"), carl.Token, map[string]any{"body": "hello?"}),
		"reply":  s.Do("POST", path(g.ID, "/messages"), carl.Token, map[string]any{"body": "hello?", "parent_id": msg.ID.String()}),
		"edit":   s.Do("PATCH", "/messages/"+msg.ID.String(), carl.Token, map[string]any{"body": "changed"}),
		"delete": s.Do("DELETE", "/messages/"+msg.ID.String(), carl.Token, nil),
		"react":  s.Do("POST", "/messages/"+msg.ID.String()+"/reactions", carl.Token, map[string]any{"emoji": "👍"}),
		"pin":    s.Do("POST", "/messages/"+msg.ID.String()+"/pin", carl.Token, nil),
		"rename": s.Do("PATCH", path(g.ID), ann.Token, map[string]any{"name": "renamed"}),
		"add":    s.Do("POST", path(g.ID, "/members"), ann.Token, map[string]any{"user_id": dan.ID.String()}),
	}
	for what, r := range refused {
		require.Equal(t, http.StatusConflict, r.Status, "%s: %s", what, r.Body)
		require.Equal(t, "conversation_archived", r.Code(), what)
	}
	page := convtest.Get[convtest.Page[convtest.Message]](t, s, carl, path(g.ID, "/messages"))
	require.Len(t, page.Items, 1, "nothing was written")
	require.Equal(t, "before the archive", *page.Items[0].Body)

	// Still allowed: reading, marking read, roles, leaving, settings.
	require.Equal(t, http.StatusOK, s.Do("POST", path(g.ID, "/read"), carl.Token, map[string]any{"message_id": msg.ID.String()}).Status)
	require.Equal(t, http.StatusOK, s.Do("PATCH", path(g.ID, "/members/", carl.ID.String()), ann.Token, map[string]any{"role": "admin"}).Status)
	require.Equal(t, http.StatusOK, s.Do("PUT", path(g.ID, "/notifications"), carl.Token, map[string]any{"level": "none"}).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(g.ID, "/membership"), carl.Token, nil).Status)

	r = archive(carl, "DELETE")
	require.Equal(t, http.StatusNotFound, r.Status, "carl left: the group is gone for them")
	r = archive(ann, "DELETE")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &a)
	require.Nil(t, a.ArchivedAt)
	require.Equal(t, http.StatusOK, archive(ann, "DELETE").Status, "again: a no-op")
	convtest.Send(t, s, bob, g.ID, "back in business")

	var types []string
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		switch e.Env.Type {
		case event.ConversationArchived, event.ConversationUnarchived:
			var c struct {
				ArchivedAt *string `json:"archived_at"`
			}
			require.NoError(t, json.Unmarshal(e.Env.Data, &c))
			require.Equal(t, e.Env.Type == event.ConversationArchived, c.ArchivedAt != nil)
			require.NotZero(t, e.Env.Seq)
			types = append(types, e.Env.Type)
		case event.MemberUpdated, event.MemberLeft, event.MessageCreated:
			types = append(types, e.Env.Type)
		}
	}
	require.Equal(t, []string{event.MemberUpdated, event.MessageCreated, event.ConversationArchived, event.MemberUpdated,
		event.MemberLeft, event.ConversationUnarchived, event.MessageCreated}, types)

	dm := convtest.Create(t, s, ann, "dm", "", bob)
	require.Equal(t, http.StatusForbidden, s.Do("POST", path(dm.ID, "/archive"), ann.Token, nil).Status, "a DM is never archived")
	ch := convtest.Create(t, s, ann, "channel", "archived-"+ann.Name)
	require.Equal(t, http.StatusOK, s.Do("POST", path(ch.ID, "/archive"), ann.Token, nil).Status)
	require.Equal(t, "conversation_archived", s.Do("POST", path(ch.ID, "/join"), eve.Token, nil).Code(), "nobody joins")
}
