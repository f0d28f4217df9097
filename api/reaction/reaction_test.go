package reaction_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

type page = convtest.Page[convtest.Message]

func TestReactions(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	m := convtest.Send(t, s, ann, g.ID, "react to me")
	reactions := "/messages/" + m.ID.String() + "/reactions"
	timeline := "/conversations/" + g.ID.String() + "/messages"
	convtest.Get[page](t, s, ann, timeline) // cached now

	r := s.Do("POST", reactions, bob.Token, map[string]any{"emoji": "👍"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"message_id":"`+m.ID.String()+`","emoji":"👍","user_id":"`+bob.ID.String()+`","count":1}`, string(r.Body))
	again := s.Do("POST", reactions, bob.Token, map[string]any{"emoji": "👍"})
	require.Equal(t, http.StatusOK, again.Status, "adding twice is a no-op")
	require.JSONEq(t, string(r.Body), string(again.Body))
	require.Equal(t, http.StatusCreated, s.Do("POST", reactions, ann.Token, map[string]any{"emoji": "👍"}).Status)
	require.Equal(t, http.StatusCreated, s.Do("POST", reactions, ann.Token, map[string]any{"emoji": ":shipit:"}).Status)

	// The very next read shows them, each reader with their own `me`.
	for _, tc := range []struct {
		u      convtest.User
		meLike bool
	}{{ann, true}, {bob, true}} {
		p := convtest.Get[page](t, s, tc.u, timeline)
		rs := p.Items[0].Reactions
		require.Len(t, rs, 2)
		require.Equal(t, "👍", rs[0].Emoji)
		require.Equal(t, 2, rs[0].Count)
		require.Equal(t, tc.meLike, *rs[0].Me)
		require.Equal(t, ":shipit:", rs[1].Emoji)
		require.Equal(t, tc.u == ann, *rs[1].Me)
	}

	del := reactions + "/" + url.PathEscape("👍")
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", del, bob.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", del, bob.Token, nil).Status, "removing what is not there is a no-op")
	p := convtest.Get[page](t, s, bob, timeline)
	require.Equal(t, 1, p.Items[0].Reactions[0].Count)
	require.False(t, *p.Items[0].Reactions[0].Me)

	var added, removed int
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		switch e.Env.Type {
		case event.ReactionAdded:
			added++
			require.NotContains(t, string(e.Env.Data), `"me"`, "events carry no per-viewer fields")
		case event.ReactionRemoved:
			removed++
		}
	}
	require.Equal(t, 3, added, "a no-op add emits nothing")
	require.Equal(t, 1, removed)

	for _, bad := range []string{"", "x", "👍👍", ":" + string(make([]byte, 70)) + ":", "<script>"} {
		r := s.Do("POST", reactions, ann.Token, map[string]any{"emoji": bad})
		require.Equal(t, http.StatusBadRequest, r.Status, "%q", bad)
	}
	require.Equal(t, http.StatusNotFound, s.Do("POST", reactions, eve.Token, map[string]any{"emoji": "👍"}).Status,
		"a group's messages do not exist for outsiders")
	ch := convtest.Create(t, s, ann, "channel", "open")
	cm := convtest.Send(t, s, ann, ch.ID, "public")
	r = s.Do("POST", "/messages/"+cm.ID.String()+"/reactions", eve.Token, map[string]any{"emoji": "👍"})
	require.Equal(t, http.StatusForbidden, r.Status, "a channel's outsiders see but do not react")
}

// A message carries at most REACTIONS_PER_MESSAGE distinct emoji and a
// user at most REACTIONS_PER_USER_PER_MESSAGE reactions on one message;
// past them an add is 409 too_many_reactions, while adding an emoji that
// is already there, or again, still works. The caps hold when adds race.
func TestReactionCaps(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"REACTIONS_PER_MESSAGE": "3", "REACTIONS_PER_USER_PER_MESSAGE": "2"})
	ann, bob, carl := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "carl")
	racers := make([]convtest.User, 8)
	for i := range racers {
		racers[i] = convtest.NewUser(t, s, "racer")
	}
	g := convtest.Create(t, s, ann, "group", "g", append([]convtest.User{bob, carl}, racers...)...)
	m := convtest.Send(t, s, ann, g.ID, "react to me")
	reactions := "/messages/" + m.ID.String() + "/reactions"
	react := func(u convtest.User, emoji string) *apitest.Response {
		return s.Do("POST", reactions, u.Token, map[string]any{"emoji": emoji})
	}
	refused := func(r *apitest.Response, scope string, limit float64) {
		t.Helper()
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		require.Equal(t, "too_many_reactions", r.Code())
		p := r.Map(t)
		require.Equal(t, scope, p["scope"])
		require.Equal(t, limit, p["limit"])
	}

	require.Equal(t, http.StatusCreated, react(ann, "👍").Status)
	require.Equal(t, http.StatusCreated, react(ann, "🎉").Status)
	refused(react(ann, ":ann:"), "user", 2)
	require.Equal(t, http.StatusOK, react(ann, "👍").Status, "adding again is still a no-op at the cap")
	require.Equal(t, http.StatusCreated, react(bob, ":bob:").Status)
	refused(react(carl, ":carl:"), "message", 3)
	require.Equal(t, http.StatusCreated, react(carl, "👍").Status, "an emoji already there can always be added")
	// Taking one back makes room.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", reactions+"/"+url.PathEscape(":bob:"), bob.Token, nil).Status)
	require.Equal(t, http.StatusCreated, react(carl, ":carl:").Status)

	// Racing adds of new emoji to a fresh message: exactly the cap wins.
	m2 := convtest.Send(t, s, ann, g.ID, "race for me")
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, len(racers))
	for i, u := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = s.Do("POST", "/messages/"+m2.ID.String()+"/reactions", u.Token,
				map[string]any{"emoji": ":e" + strconv.Itoa(i) + ":"}).Status
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, st := range statuses {
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, st)
		if st == http.StatusCreated {
			won++
		}
	}
	require.Equal(t, 3, won, "%v", statuses)
	var distinct int
	require.NoError(t, s.Deps.DB.QueryRow(context.Background(),
		`SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = $1`, int64(m2.ID)).Scan(&distinct))
	require.Equal(t, 3, distinct)
}
