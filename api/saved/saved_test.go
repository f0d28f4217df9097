package saved_test

import (
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

type savedJSON struct {
	MessageID      id.ID             `json:"message_id"`
	ConversationID id.ID             `json:"conversation_id"`
	SavedAt        string            `json:"saved_at"`
	Message        *convtest.Message `json:"message"`
}

// A person saves messages they may read for themself: the list is theirs
// alone, newest save first; saving twice or unsaving what is not saved
// changes nothing; a message they may not read cannot be saved, and one
// deleted, or of a group they left, drops out of the list.
func TestSavedMessages(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	ch := convtest.Create(t, s, ann, "channel", "open")
	a := convtest.Send(t, s, ann, g.ID, "keep this")
	b := convtest.Send(t, s, ann, ch.ID, "and this")
	c := convtest.Send(t, s, bob, g.ID, "this one goes")
	save := func(u convtest.User, m convtest.Message) *apitest.Response {
		return s.Do("POST", "/me/saved/"+m.ID.String(), u.Token, nil)
	}

	r := save(bob, a)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var sv savedJSON
	r.JSON(t, &sv)
	require.Equal(t, a.ID, sv.MessageID)
	require.Equal(t, g.ID, sv.ConversationID)
	require.Equal(t, "keep this", *sv.Message.Body)
	again := save(bob, a)
	require.Equal(t, http.StatusOK, again.Status, "saving twice is a no-op")
	require.JSONEq(t, string(r.Body), string(again.Body))
	require.Equal(t, http.StatusCreated, save(bob, b).Status)
	require.Equal(t, http.StatusCreated, save(bob, c).Status)

	list := convtest.Get[convtest.Page[savedJSON]](t, s, bob, "/me/saved")
	require.Equal(t, []id.ID{c.ID, b.ID, a.ID}, []id.ID{list.Items[0].MessageID, list.Items[1].MessageID, list.Items[2].MessageID})
	require.Nil(t, list.NextCursor)
	page := convtest.Get[convtest.Page[savedJSON]](t, s, bob, "/me/saved?limit=2")
	require.Len(t, page.Items, 2)
	page = convtest.Get[convtest.Page[savedJSON]](t, s, bob, "/me/saved?limit=2&cursor="+*page.NextCursor)
	require.Equal(t, a.ID, page.Items[0].MessageID)
	require.Nil(t, page.NextCursor)
	// Nobody else sees bob's list.
	require.Empty(t, convtest.Get[convtest.Page[savedJSON]](t, s, ann, "/me/saved").Items)

	// eve may read the channel, not the group: she saves from the one only.
	require.Equal(t, http.StatusCreated, save(eve, b).Status)
	require.Equal(t, http.StatusNotFound, save(eve, a).Status, "a group's messages do not exist for outsiders")
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/me/saved/12345", eve.Token, nil).Status)

	// Deleted: gone from the list, and not savable.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+c.ID.String(), bob.Token, nil).Status)
	require.Equal(t, http.StatusConflict, save(ann, c).Status)
	// Left the group: its messages drop out; the channel's stay.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/conversations/"+g.ID.String()+"/membership", bob.Token, nil).Status)
	list = convtest.Get[convtest.Page[savedJSON]](t, s, bob, "/me/saved")
	require.Len(t, list.Items, 1)
	require.Equal(t, b.ID, list.Items[0].MessageID)

	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/me/saved/"+b.ID.String(), bob.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/me/saved/"+b.ID.String(), bob.Token, nil).Status, "unsaving twice is a no-op")
	require.Empty(t, convtest.Get[convtest.Page[savedJSON]](t, s, bob, "/me/saved").Items)
	require.Equal(t, "validation_failed", s.Do("GET", "/me/saved?cursor=x", bob.Token, nil).Code())
}
