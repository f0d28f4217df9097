package conversation_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

type member struct {
	UserID id.ID  `json:"user_id"`
	Role   string `json:"role"`
	User   *struct {
		Username string `json:"username"`
	} `json:"user"`
}

func path(c id.ID, rest ...string) string {
	return "/conversations/" + c.String() + strings.Join(rest, "")
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	owner, bob := convtest.NewUser(t, s, "owner"), convtest.NewUser(t, s, "bob")

	ch := convtest.Create(t, s, owner, "channel", "  Design-Team ")
	require.Equal(t, "design-team", *ch.Name, "names are trimmed and lowercased")
	require.Equal(t, "owner", ch.Role)
	require.Equal(t, 1, ch.MemberCount)
	require.NotNil(t, ch.LastSeq)

	r := s.Do("POST", "/conversations", bob.Token, map[string]any{"kind": "channel", "name": "design-team"})
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "already_exists", r.Code())
	for _, bad := range []string{"", "has space", "UPPER_", strings.Repeat("a", 81), "émoji"} {
		r = s.Do("POST", "/conversations", bob.Token, map[string]any{"kind": "channel", "name": bad})
		require.Equal(t, http.StatusBadRequest, r.Status, "name %q", bad)
		require.Equal(t, "validation_failed", r.Code())
	}

	// A non-member sees a channel and its members, but acts only after joining.
	got := convtest.Get[convtest.Conversation](t, s, bob, path(ch.ID))
	require.Equal(t, ch.ID, got.ID)
	require.Empty(t, got.Role)
	convtest.Get[convtest.Page[member]](t, s, bob, path(ch.ID, "/members"))
	r = s.Do("POST", path(ch.ID, "/messages"), bob.Token, map[string]any{"body": "hi"})
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", path(ch.ID, "/events"), bob.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("DELETE", path(ch.ID, "/membership"), bob.Token, nil).Status)

	browse := convtest.Get[convtest.Page[struct {
		Name     string `json:"name"`
		IsMember bool   `json:"is_member"`
	}]](t, s, bob, "/channels?query=DES")
	require.Len(t, browse.Items, 1)
	require.Equal(t, "design-team", browse.Items[0].Name)
	require.False(t, browse.Items[0].IsMember)

	r = s.Do("POST", path(ch.ID, "/join"), bob.Token, nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, "member", r.Map(t)["role"])
	r = s.Do("POST", path(ch.ID, "/join"), bob.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "joining again is an idempotent replay")
	convtest.Send(t, s, bob, ch.ID, "hello")

	ms := convtest.Get[convtest.Page[member]](t, s, bob, path(ch.ID, "/members"))
	require.Len(t, ms.Items, 2)
	roles := map[id.ID]string{ms.Items[0].UserID: ms.Items[0].Role, ms.Items[1].UserID: ms.Items[1].Role}
	require.Equal(t, map[id.ID]string{owner.ID: "owner", bob.ID: "member"}, roles)
	require.NotNil(t, ms.Items[0].User)

	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(ch.ID, "/membership"), bob.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("DELETE", path(ch.ID, "/membership"), bob.Token, nil).Status)
	got = convtest.Get[convtest.Conversation](t, s, owner, path(ch.ID))
	require.Equal(t, 1, got.MemberCount, "the member count follows at once")
}

func TestGroupIsInvisibleToNonMembers(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	owner, ann, eve := convtest.NewUser(t, s, "owner"), convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, owner, "group", "Secret plans", ann)
	require.Equal(t, 2, g.MemberCount)
	m := convtest.Send(t, s, ann, g.ID, "our plan")

	mid := m.ID.String()
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", path(g.ID), nil},
		{"PATCH", path(g.ID), map[string]any{"name": "mine now"}},
		{"GET", path(g.ID, "/messages"), nil},
		{"POST", path(g.ID, "/messages"), map[string]any{"body": "x"}},
		{"GET", path(g.ID, "/events"), nil},
		{"GET", path(g.ID, "/members"), nil},
		{"POST", path(g.ID, "/members"), map[string]any{"user_id": eve.ID.String()}},
		{"DELETE", path(g.ID, "/members/", ann.ID.String()), nil},
		{"POST", path(g.ID, "/join"), nil},
		{"DELETE", path(g.ID, "/membership"), nil},
		{"POST", path(g.ID, "/read"), map[string]any{"message_id": mid}},
		{"PATCH", "/messages/" + mid, map[string]any{"body": "x"}},
		{"DELETE", "/messages/" + mid, nil},
		{"GET", "/messages/" + mid + "/replies", nil},
		{"POST", "/messages/" + mid + "/reactions", map[string]any{"emoji": "👍"}},
		{"DELETE", "/messages/" + mid + "/reactions/%F0%9F%91%8D", nil},
	} {
		r := s.Do(req.method, req.path, eve.Token, req.body)
		require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", req.method, req.path, r.Body)
		require.NotContains(t, string(r.Body), "our plan")
	}
	list := convtest.Get[convtest.Page[convtest.Conversation]](t, s, eve, "/conversations")
	require.Empty(t, list.Items)
	browse := convtest.Get[convtest.Page[convtest.Conversation]](t, s, eve, "/channels")
	require.Empty(t, browse.Items, "groups are not browsable")

	// A member who may see but not manage gets 403.
	r := s.Do("PATCH", path(g.ID), ann.Token, map[string]any{"topic": "t"})
	require.Equal(t, http.StatusForbidden, r.Status)
	r = s.Do("POST", path(g.ID, "/members"), ann.Token, map[string]any{"user_id": eve.ID.String()})
	require.Equal(t, http.StatusForbidden, r.Status)
	r = s.Do("POST", path(g.ID, "/members"), owner.Token, map[string]any{"user_id": eve.ID.String()})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r = s.Do("POST", path(g.ID, "/members"), owner.Token, map[string]any{"user_id": eve.ID.String()})
	require.Equal(t, http.StatusOK, r.Status, "adding a member again is a replay")
	convtest.Get[convtest.Conversation](t, s, eve, path(g.ID))
	require.Equal(t, http.StatusForbidden, s.Do("DELETE", path(g.ID, "/members/", eve.ID.String()), ann.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(g.ID, "/members/", eve.ID.String()), owner.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", path(g.ID), eve.Token, nil).Status, "removed: invisible again")
	require.Equal(t, http.StatusNotFound, s.Do("DELETE", path(g.ID, "/members/", eve.ID.String()), owner.Token, nil).Status)

	r = s.Do("PATCH", path(g.ID), owner.Token, map[string]any{"name": "Open plans", "topic": " shipping "})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "Open plans", r.Map(t)["name"])
	require.Equal(t, "shipping", r.Map(t)["topic"])
	r = s.Do("POST", path(g.ID, "/members"), owner.Token, map[string]any{"user_id": s.Deps.IDs.Next().String()})
	require.Equal(t, http.StatusNotFound, r.Status, "an unknown user, as the OpenAPI file says: %s", r.Body)
	require.Equal(t, "not_found", r.Code())
	require.Equal(t, "user_id", r.Map(t)["field"])
}

func TestDMCreatedTwiceIsOneConversation(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	dm := convtest.Create(t, s, ann, "dm", "", bob)
	require.Equal(t, "dm", dm.Kind)
	require.Nil(t, dm.Name)
	require.Equal(t, 2, dm.MemberCount)
	for _, u := range []convtest.User{ann, bob} {
		other := bob
		if u == bob {
			other = ann
		}
		r := s.Do("POST", "/conversations", u.Token, map[string]any{"kind": "dm", "member_ids": []string{other.ID.String()}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, dm.ID.String(), r.Map(t)["id"])
	}
	var n int
	require.NoError(t, s.Deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM conversations WHERE kind = 'dm'`).Scan(&n))
	require.Equal(t, 1, n)

	r := s.Do("POST", "/conversations", ann.Token, map[string]any{"kind": "dm", "member_ids": []string{ann.ID.String()}})
	require.Equal(t, http.StatusBadRequest, r.Status, "a DM with oneself")
	r = s.Do("POST", "/conversations", ann.Token, map[string]any{"kind": "dm", "member_ids": []string{bob.ID.String(), ann.ID.String()}})
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = s.Do("POST", "/conversations", ann.Token, map[string]any{"kind": "dm", "member_ids": []int{1}})
	require.Equal(t, http.StatusBadRequest, r.Status, "ids are strings")
	require.Equal(t, http.StatusForbidden, s.Do("PATCH", path(dm.ID), ann.Token, map[string]any{"topic": "x"}).Status)
	require.Equal(t, http.StatusForbidden, s.Do("DELETE", path(dm.ID, "/membership"), ann.Token, nil).Status)
	carl := convtest.NewUser(t, s, "carl")
	require.Equal(t, http.StatusNotFound, s.Do("GET", path(dm.ID), carl.Token, nil).Status)
}

func TestListIsByActivityWithUnreadCountsAndFreshAfterWrites(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	me, ann := convtest.NewUser(t, s, "me"), convtest.NewUser(t, s, "ann")
	a := convtest.Create(t, s, me, "group", "a", ann)
	b := convtest.Create(t, s, me, "channel", "b")
	c := convtest.Create(t, s, ann, "dm", "", me)
	list := func(q string) convtest.Page[convtest.Conversation] {
		return convtest.Get[convtest.Page[convtest.Conversation]](t, s, me, "/conversations"+q)
	}
	ids := func(p convtest.Page[convtest.Conversation]) []id.ID {
		var out []id.ID
		for _, c := range p.Items {
			out = append(out, c.ID)
		}
		return out
	}
	require.Equal(t, []id.ID{c.ID, b.ID, a.ID}, ids(list("")), "newest first")

	convtest.Send(t, s, ann, a.ID, "one")
	m2 := convtest.Send(t, s, ann, a.ID, "two")
	convtest.Send(t, s, me, a.ID, "mine")
	got := list("")
	require.Equal(t, []id.ID{a.ID, c.ID, b.ID}, ids(got), "a write is visible in the very next read")
	require.Equal(t, 2, got.Items[0].UnreadCount, "others' messages after the marker")
	require.Equal(t, "mine", *got.Items[0].LastMessage.Body)

	r := s.Do("POST", path(a.ID, "/read"), me.Token, map[string]any{"message_id": m2.ID.String()})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Zero(t, list("").Items[0].UnreadCount)

	// Paging.
	p1 := list("?limit=2")
	require.Equal(t, []id.ID{a.ID, c.ID}, ids(p1))
	require.NotNil(t, p1.NextCursor)
	p2 := list("?limit=2&cursor=" + *p1.NextCursor)
	require.Equal(t, []id.ID{b.ID}, ids(p2))
	require.Nil(t, p2.NextCursor)
	r = s.Do("GET", "/conversations?cursor=nonsense", me.Token, nil)
	require.Equal(t, http.StatusBadRequest, r.Status)

	// Leaving drops it from the list at once.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(b.ID, "/membership"), me.Token, nil).Status)
	require.Equal(t, []id.ID{a.ID, c.ID}, ids(list("")))
}

func TestMemberSetFollowsEveryMembershipChange(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ctx := context.Background()
	owner, ann, bob := convtest.NewUser(t, s, "owner"), convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	isMember := func(c, u id.ID) bool {
		n, err := s.Deps.Redis.Do(ctx, s.Deps.Redis.B().Sismember().Key(s.Deps.Keys.Members(c)).Member(u.String()).Build()).AsInt64()
		require.NoError(t, err)
		return n == 1
	}
	ch := convtest.Create(t, s, owner, "channel", "general")
	g := convtest.Create(t, s, owner, "group", "g", ann)
	require.True(t, isMember(ch.ID, owner.ID))
	require.True(t, isMember(g.ID, ann.ID))
	require.False(t, isMember(ch.ID, bob.ID))

	require.Equal(t, http.StatusCreated, s.Do("POST", path(ch.ID, "/join"), bob.Token, nil).Status)
	require.True(t, isMember(ch.ID, bob.ID))
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(ch.ID, "/membership"), bob.Token, nil).Status)
	require.False(t, isMember(ch.ID, bob.ID))
	require.Equal(t, http.StatusCreated, s.Do("POST", path(g.ID, "/members"), owner.Token, map[string]any{"user_id": bob.ID.String()}).Status)
	require.True(t, isMember(g.ID, bob.ID))
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(g.ID, "/members/", bob.ID.String()), owner.Token, nil).Status)
	require.False(t, isMember(g.ID, bob.ID))

	// member.left reaches the stream after the set lost the member, so the
	// edge dropping the subscription finds the set already changed.
	var left []event.Envelope
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		if e.Env.Type == event.MemberLeft {
			left = append(left, e.Env)
		}
	}
	require.Len(t, left, 1)
	require.JSONEq(t, `"`+bob.ID.String()+`"`, string(mustField(t, left[0].Data, "user_id")))

	// Redis lost the set: the next use rebuilds it from Postgres.
	require.NoError(t, s.Deps.Redis.Do(ctx, s.Deps.Redis.B().Del().Key(s.Deps.Keys.Members(g.ID)).Build()).Error())
	convtest.Send(t, s, ann, g.ID, "still here")
	require.True(t, isMember(g.ID, ann.ID))
	require.True(t, isMember(g.ID, owner.ID))
	require.False(t, isMember(g.ID, bob.ID))
}

func TestEventsReplayForMembersAndResyncAfterRetention(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	owner, ann := convtest.NewUser(t, s, "owner"), convtest.NewUser(t, s, "ann")
	g := convtest.Create(t, s, owner, "group", "g", ann) // seqs 1, 2: member.joined
	convtest.Send(t, s, ann, g.ID, "hello")              // seq 3
	type envelope struct {
		Type string `json:"type"`
		Seq  int64  `json:"seq"`
	}
	p := convtest.Get[convtest.Page[envelope]](t, s, ann, path(g.ID, "/events?after_seq=0"))
	require.Equal(t, []envelope{{event.MemberJoined, 1}, {event.MemberJoined, 2}, {event.MessageCreated, 3}}, p.Items)
	p = convtest.Get[convtest.Page[envelope]](t, s, ann, path(g.ID, "/events?after_seq=1&limit=1"))
	require.Equal(t, []envelope{{event.MemberJoined, 2}}, p.Items)
	require.Equal(t, "2", *p.NextCursor)
	p = convtest.Get[convtest.Page[envelope]](t, s, ann, path(g.ID, "/events?after_seq=0&limit=100000"))
	require.Len(t, p.Items, 3, "a limit above the maximum is clamped")
	require.Equal(t, http.StatusBadRequest, s.Do("GET", path(g.ID, "/events?after_seq=-1"), ann.Token, nil).Status)
	convtest.WaitSeqs(t, s, g.ID, 3)

	// The retention window passes: the log is trimmed, and a client asking
	// for what is gone is told to reload.
	_, err := trimAll(s)
	require.NoError(t, err)
	convtest.Send(t, s, ann, g.ID, "after the trim") // seq 4 is kept
	r := s.Do("GET", path(g.ID, "/events?after_seq=1"), ann.Token, nil)
	require.Equal(t, http.StatusGone, r.Status)
	require.Equal(t, "resync_required", r.Code())
	p = convtest.Get[convtest.Page[envelope]](t, s, ann, path(g.ID, "/events?after_seq=3"))
	require.Equal(t, []envelope{{event.MessageCreated, 4}}, p.Items)
}

func trimAll(s *apitest.Stack) (int64, error) {
	return eventlogTrim(s, time.Now().Add(time.Hour))
}
