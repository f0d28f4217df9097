package block_test

import (
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

type blockJSON struct {
	UserID id.ID `json:"user_id"`
	User   struct {
		ID       id.ID  `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
}

// problem is the part of a refusal that must not tell a block from a
// person who is not there.
func problem(t *testing.T, r *apitest.Response) [4]any {
	t.Helper()
	m := r.Map(t)
	return [4]any{r.Status, m["code"], m["field"], m["detail"]}
}

// A blocked person can no longer open a DM with, call, or add to a group
// the person who blocked them, and every refusal reads exactly as for a
// person who is not there (or, for a call, one who is busy); the blocker
// still may do all of it, sees their blocks, and the blocked person sees
// nothing of them.
func TestBlocking(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "carl")
	ghost := id.ID(12345) // no such user
	dm := convtest.Create(t, s, bob, "dm", "", ann)
	blocks := "/me/blocks/" + bob.ID.String()

	r := s.Do("POST", blocks, ann.Token, nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var b blockJSON
	r.JSON(t, &b)
	require.Equal(t, bob.ID, b.UserID)
	require.Equal(t, bob.Name, b.User.Username)
	require.Equal(t, http.StatusOK, s.Do("POST", blocks, ann.Token, nil).Status, "blocking twice is a no-op")
	require.Equal(t, "validation_failed", s.Do("POST", "/me/blocks/"+ann.ID.String(), ann.Token, nil).Code())
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/me/blocks/"+ghost.String(), ann.Token, nil).Status)
	list := convtest.Get[convtest.Page[blockJSON]](t, s, ann, "/me/blocks")
	require.Len(t, list.Items, 1)
	require.Equal(t, bob.ID, list.Items[0].UserID)
	require.Empty(t, convtest.Get[convtest.Page[blockJSON]](t, s, bob, "/me/blocks").Items, "bob sees nothing of it")

	// A DM: as with no such user, even though theirs exists.
	dmWith := func(u convtest.User, other id.ID) *apitest.Response {
		return s.Do("POST", "/conversations", u.Token, map[string]any{"kind": "dm", "member_ids": []string{other.String()}})
	}
	r = dmWith(bob, ann.ID)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	require.Equal(t, problem(t, dmWith(bob, ghost)), problem(t, r))
	require.Equal(t, http.StatusOK, dmWith(ann, bob.ID).Status, "the blocker still opens their DM")

	// A group: neither made with ann nor ann added to one.
	group := func(u convtest.User, members ...id.ID) *apitest.Response {
		ids := make([]string, len(members))
		for i, m := range members {
			ids[i] = m.String()
		}
		return s.Do("POST", "/conversations", u.Token, map[string]any{"kind": "group", "name": "g", "member_ids": ids})
	}
	r = group(bob, carl.ID, ann.ID)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	require.Equal(t, problem(t, group(bob, carl.ID, ghost)), problem(t, r))
	g := convtest.Create(t, s, bob, "group", "bobs", carl)
	add := func(u convtest.User, c, target id.ID) *apitest.Response {
		return s.Do("POST", "/conversations/"+c.String()+"/members", u.Token, map[string]any{"user_id": target.String()})
	}
	r = add(bob, g.ID, ann.ID)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, problem(t, add(bob, g.ID, ghost)), problem(t, r))
	require.Equal(t, http.StatusCreated, add(bob, g.ID, convtest.NewUser(t, s, "dan").ID).Status, "others are added as before")
	require.Equal(t, http.StatusCreated, group(ann, bob.ID).Status, "the blocker still adds the blocked")

	// A call, to the person or in the DM: busy, as on another call.
	call := func(u convtest.User, body map[string]any) *apitest.Response {
		body["media"] = "audio"
		return s.Do("POST", "/calls", u.Token, body)
	}
	for _, body := range []map[string]any{{"callee_id": ann.ID.String()}, {"conversation_id": dm.ID.String()}} {
		r = call(bob, body)
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Equal(t, "busy", r.Code())
		require.Equal(t, "the callee is already in a call", r.Map(t)["detail"])
		require.Equal(t, ann.ID.String(), r.Map(t)["user_id"])
	}

	// Unblocked, all of it works again.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", blocks, ann.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", blocks, ann.Token, nil).Status, "unblocking twice is a no-op")
	require.Empty(t, convtest.Get[convtest.Page[blockJSON]](t, s, ann, "/me/blocks").Items)
	require.Equal(t, http.StatusOK, dmWith(bob, ann.ID).Status)
	require.Equal(t, http.StatusCreated, add(bob, g.ID, ann.ID).Status)
	require.Equal(t, http.StatusCreated, call(bob, map[string]any{"callee_id": ann.ID.String()}).Status)
	require.Equal(t, "validation_failed", s.Do("GET", "/me/blocks?cursor=x", ann.Token, nil).Code())
}
