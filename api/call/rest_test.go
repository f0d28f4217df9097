package call_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/worker/workertest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// post sends POST path as u with body and returns the response.
func post(s *apitest.Stack, u convtest.User, path string, body any) *apitest.Response {
	return s.Do("POST", path, u.Token, body)
}

// callOf decodes a call answer, expecting status.
func callOf(t *testing.T, r *apitest.Response, status int) call.JSON {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Body)
	var c call.JSON
	r.JSON(t, &c)
	return c
}

func TestACallOverREST(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "carl")

	r := post(s, ann, "/calls", map[string]any{"callee_id": bob.ID.String(), "media": "video"})
	c := callOf(t, r, http.StatusCreated)
	require.Equal(t, "/calls/"+c.ID.String(), r.Header.Get("Location"))
	require.Equal(t, call.Calling, c.Status)
	require.Equal(t, ann.ID, c.CallerID)
	require.Equal(t, bob.ID, c.CalleeID)
	require.Equal(t, call.Video, c.Media)
	// The call found or made the DM of the two.
	dm := convtest.Get[convtest.Conversation](t, s, ann, "/conversations/"+c.ConversationID.String())
	require.Equal(t, "dm", dm.Kind)
	r = post(s, bob, "/calls", map[string]any{"conversation_id": c.ConversationID.String(), "media": "audio"})
	require.Equal(t, "busy", r.Code(), "no second call while this one is live")

	path := "/calls/" + c.ID.String()
	require.Equal(t, c, callOf(t, s.Do("GET", path, bob.Token, nil), http.StatusOK))
	require.Equal(t, http.StatusNotFound, s.Do("GET", path, carl.Token, nil).Status, "only participants see a call")
	r = post(s, ann, path+"/accept", nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, "forbidden", r.Code())
	require.Equal(t, http.StatusNotFound, post(s, carl, path+"/end", nil).Status)

	require.Equal(t, call.Ringing, callOf(t, post(s, bob, path+"/ring", nil), http.StatusOK).Status)
	active := callOf(t, post(s, bob, path+"/accept", nil), http.StatusOK)
	require.Equal(t, call.Active, active.Status)
	require.NotNil(t, active.RingingAt)
	require.NotNil(t, active.AcceptedAt)

	r = post(s, bob, path+"/decline", nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, "invalid_transition", r.Code())
	require.Equal(t, "active", r.Map(t)["call_status"], "the problem names the call's status")
	require.EqualValues(t, http.StatusConflict, r.Map(t)["status"], "RFC 9457's status stays the HTTP status")

	ended := callOf(t, post(s, ann, path+"/end", nil), http.StatusOK)
	require.Equal(t, call.Ended, ended.Status)
	require.Equal(t, ann.ID, *ended.EndedBy)
	r = post(s, bob, path+"/end", nil)
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "ended", r.Map(t)["call_status"])

	// The DM's log holds the history with seqs, as the events endpoint
	// replays it; both user topics carried it live, without seq.
	page := convtest.Get[convtest.Page[event.Envelope]](t, s, ann, "/conversations/"+c.ConversationID.String()+"/events?after_seq=0")
	var calls []string
	for _, e := range page.Items {
		if e.Type[:5] == "call." {
			require.NotZero(t, e.Seq)
			calls = append(calls, e.Type)
		}
	}
	require.Equal(t, []string{event.CallIncoming, event.CallRinging, event.CallAccepted, event.CallEnded}, calls)
	require.Eventually(t, func() bool {
		return len(convtest.Stream(t, s, rkey.UserTopic(ann.ID))) == 3 && len(convtest.Stream(t, s, rkey.UserTopic(bob.ID))) == 4
	}, 5*time.Second, 10*time.Millisecond)
	for _, e := range convtest.Stream(t, s, rkey.UserTopic(bob.ID)) {
		require.Zero(t, e.Env.Seq)
	}
}

func TestBusyAndBadRequests(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "carl")
	callOf(t, post(s, ann, "/calls", map[string]any{"callee_id": bob.ID.String(), "media": "audio"}), http.StatusCreated)

	r := post(s, carl, "/calls", map[string]any{"callee_id": bob.ID.String(), "media": "audio"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, "busy", r.Code())
	r = post(s, ann, "/calls", map[string]any{"callee_id": carl.ID.String(), "media": "audio"})
	require.Equal(t, "busy", r.Code(), "the caller of a live call is busy too")

	for body, code := range map[string]string{
		`{"callee_id":"` + carl.ID.String() + `","media":"smell"}`: "validation_failed",
		`{"callee_id":` + carl.ID.String() + `,"media":"audio"}`:   "bad_request", // a number, not a string
		`{"media":"audio"}`: "validation_failed",
		`{"callee_id":"` + carl.ID.String() + `","media":"audio","x":1}`: "bad_request",
	} {
		r := s.Do("POST", "/calls", carl.Token, []byte(body))
		require.Equal(t, code, r.Code(), "%s → %s", body, r.Body)
	}
	r = post(s, carl, "/calls", map[string]any{"callee_id": id.ID(12345).String(), "media": "audio"})
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/calls", "", map[string]any{}).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/calls/nope", carl.Token, nil).Status)
}

// POST /calls is limited per caller and per caller→callee pair, before
// anything is written: a refused attempt makes no call (and no DM), so
// one account cannot keep another busy by calling it again and again.
func TestCallsAreRateLimited(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_CALLS": "5", "RATE_CALLS_PER_CALLEE": "2"})
	ann, bob, carl, dan := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"),
		convtest.NewUser(t, s, "carl"), convtest.NewUser(t, s, "dan")
	callAndEnd := func(from, to convtest.User) call.JSON {
		t.Helper()
		c := callOf(t, post(s, from, "/calls", map[string]any{"callee_id": to.ID.String(), "media": "audio"}), http.StatusCreated)
		return callOf(t, post(s, from, "/calls/"+c.ID.String()+"/end", nil), http.StatusOK)
	}
	refused := func(from convtest.User, body map[string]any, why string) {
		t.Helper()
		r := post(s, from, "/calls", body)
		require.Equal(t, http.StatusTooManyRequests, r.Status, "%s: %s", why, r.Body)
		require.Equal(t, "rate_limited", r.Code())
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After: %q", r.Header.Get("Retry-After"))
		require.True(t, secs >= 1 && secs <= 60, "Retry-After %d", secs)
	}
	calls := func() int {
		var n int
		require.NoError(t, s.Deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM call_sessions`).Scan(&n))
		return n
	}

	dm := callAndEnd(ann, bob).ConversationID
	callAndEnd(ann, bob)
	refused(ann, map[string]any{"callee_id": bob.ID.String(), "media": "audio"}, "a third call to bob")
	refused(ann, map[string]any{"conversation_id": dm.String(), "media": "audio"}, "a third call to bob, through the DM")
	callAndEnd(ann, carl)
	refused(ann, map[string]any{"callee_id": dan.ID.String(), "media": "audio"}, "ann's sixth attempt, to anyone")
	require.Equal(t, 3, calls(), "refused attempts make no call")
	var dms int
	require.NoError(t, s.Deps.DB.QueryRow(context.Background(),
		`SELECT count(*) FROM memberships WHERE user_id = $1`, int64(dan.ID)).Scan(&dms))
	require.Zero(t, dms, "nor a DM with the callee")

	// Others are not held back by ann's limits: bob calls ann back.
	callAndEnd(bob, ann)
	callAndEnd(carl, bob)
}

func TestCallHistoryIsKeysetPaged(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "carl")
	var ids []id.ID
	var conv id.ID
	for i := 0; i < 5; i++ {
		c := callOf(t, post(s, ann, "/calls", map[string]any{"callee_id": bob.ID.String(), "media": "audio"}), http.StatusCreated)
		callOf(t, post(s, bob, "/calls/"+c.ID.String()+"/decline", nil), http.StatusOK)
		ids, conv = append(ids, c.ID), c.ConversationID
	}
	slices.Reverse(ids)
	var got []id.ID
	next := ""
	for pages := 0; ; pages++ {
		q := "/calls?conversation_id=" + conv.String() + "&limit=2"
		if next != "" {
			q += "&before=" + next
		}
		p := convtest.Get[convtest.Page[call.JSON]](t, s, bob, q)
		require.LessOrEqual(t, len(p.Items), 2)
		for _, c := range p.Items {
			got = append(got, c.ID)
		}
		if p.NextCursor == nil {
			require.Equal(t, 2, pages)
			break
		}
		next = *p.NextCursor
	}
	require.Equal(t, ids, got, "newest first, each call once")
	r := s.Do("GET", "/calls?conversation_id="+conv.String(), carl.Token, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "not a member of the DM")
	r = s.Do("GET", "/calls?conversation_id=nope", carl.Token, nil)
	require.Equal(t, "validation_failed", r.Code())
}

// history is GET /calls without a conversation: a person's calls across DMs.
type history struct {
	Items []struct {
		call.JSON
		Direction       string             `json:"direction"`
		Peer            struct{ ID id.ID } `json:"peer"`
		DurationSeconds *int64             `json:"duration_seconds"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// GET /calls without conversation_id is the caller's own history across
// every DM: newest first, each with its direction, the other person and
// how long it lasted; nobody else's calls, keyset-paged.
func TestCallHistoryAcrossDMs(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl, dan := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"),
		convtest.NewUser(t, s, "carl"), convtest.NewUser(t, s, "dan")
	start := func(from, to convtest.User) call.JSON {
		t.Helper()
		return callOf(t, post(s, from, "/calls", map[string]any{"callee_id": to.ID.String(), "media": "audio"}), http.StatusCreated)
	}
	talked := start(ann, bob)
	callOf(t, post(s, bob, "/calls/"+talked.ID.String()+"/accept", nil), http.StatusOK)
	callOf(t, post(s, bob, "/calls/"+talked.ID.String()+"/end", nil), http.StatusOK)
	// It lasted 75 s: the answer is moved back rather than the test waiting.
	_, err := s.Deps.DB.Exec(context.Background(),
		`UPDATE call_sessions SET accepted_at = ended_at - interval '75 seconds' WHERE id = $1`, int64(talked.ID))
	require.NoError(t, err)
	declined := start(carl, ann)
	callOf(t, post(s, ann, "/calls/"+declined.ID.String()+"/decline", nil), http.StatusOK)
	live := start(ann, carl)

	h := convtest.Get[history](t, s, ann, "/calls")
	require.Nil(t, h.NextCursor)
	require.Len(t, h.Items, 3)
	got := h.Items
	require.Equal(t, []id.ID{live.ID, declined.ID, talked.ID}, []id.ID{got[0].ID, got[1].ID, got[2].ID}, "newest first")
	require.Equal(t, []string{"outgoing", "incoming", "outgoing"}, []string{got[0].Direction, got[1].Direction, got[2].Direction})
	require.Equal(t, []id.ID{carl.ID, carl.ID, bob.ID}, []id.ID{got[0].Peer.ID, got[1].Peer.ID, got[2].Peer.ID})
	require.Equal(t, []call.Status{call.Calling, call.Declined, call.Ended}, []call.Status{got[0].Status, got[1].Status, got[2].Status})
	require.Nil(t, got[0].DurationSeconds, "not over")
	require.Nil(t, got[1].DurationSeconds, "never answered")
	require.NotNil(t, got[2].DurationSeconds)
	require.EqualValues(t, 75, *got[2].DurationSeconds)
	require.Equal(t, talked.ConversationID, got[2].ConversationID)

	// The other side of each call sees it the other way round.
	b := convtest.Get[history](t, s, bob, "/calls")
	require.Len(t, b.Items, 1)
	require.Equal(t, "incoming", b.Items[0].Direction)
	require.Equal(t, ann.ID, b.Items[0].Peer.ID)
	require.EqualValues(t, 75, *b.Items[0].DurationSeconds)
	require.Len(t, convtest.Get[history](t, s, carl, "/calls").Items, 2)
	// Someone who took part in none of them sees none of them.
	r := s.Do("GET", "/calls", dan.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"items":[],"next_cursor":null}`, string(r.Body))

	// Pages of one, each call once, newest first.
	var paged []id.ID
	q := "/calls?limit=1"
	for {
		p := convtest.Get[history](t, s, ann, q)
		require.LessOrEqual(t, len(p.Items), 1)
		for _, c := range p.Items {
			paged = append(paged, c.ID)
		}
		if p.NextCursor == nil {
			break
		}
		q = "/calls?limit=1&before=" + *p.NextCursor
	}
	require.Equal(t, []id.ID{live.ID, declined.ID, talked.ID}, paged)
	require.Equal(t, "validation_failed", s.Do("GET", "/calls?before=x", ann.Token, nil).Code())
	require.Equal(t, "validation_failed", s.Do("GET", "/calls?limit=0", ann.Token, nil).Code())
}

func TestICEServersOverREST(t *testing.T) {
	t.Parallel()
	bare := apitest.Start(t, nil)
	u := convtest.NewUser(t, bare, "ann")
	r := bare.Do("GET", "/calls/ice-servers", u.Token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"ice_servers":[]}`, string(r.Body))

	s := apitest.Start(t, map[string]string{"STUN_URLS": "stun:stun.example.com:3478",
		"TURN_URLS": "turn:turn.example.com:3478", "TURN_SECRET": "x"})
	u = convtest.NewUser(t, s, "bob")
	r = s.Do("GET", "/calls/ice-servers", u.Token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	var body struct {
		ICEServers []call.ICEServer `json:"ice_servers"`
	}
	r.JSON(t, &body)
	require.Len(t, body.ICEServers, 2)
	require.Contains(t, body.ICEServers[1].Username, ":"+u.ID.String())
	require.NotEmpty(t, body.ICEServers[1].Credential)
}

func TestMissedEndToEndWithTheWorker(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"CALL_RING_TIMEOUT": "1s"})
	workertest.Start(t, s, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	c := callOf(t, post(s, ann, "/calls", map[string]any{"callee_id": bob.ID.String(), "media": "audio"}), http.StatusCreated)
	path := "/calls/" + c.ID.String()
	require.Eventually(t, func() bool {
		return callOf(t, s.Do("GET", path, ann.Token, nil), http.StatusOK).Status == call.Missed
	}, 4*time.Second, 20*time.Millisecond)
	missed := callOf(t, s.Do("GET", path, bob.Token, nil), http.StatusOK)
	late := missed.MissedAt.Sub(missed.CreatedAt) - time.Second
	require.GreaterOrEqual(t, late, time.Duration(0))
	require.Less(t, late, 2*time.Second)
	for _, u := range []convtest.User{ann, bob} {
		require.Eventually(t, func() bool {
			for _, e := range convtest.Stream(t, s, rkey.UserTopic(u.ID)) {
				if e.Env.Type == event.CallMissed {
					return true
				}
			}
			return false
		}, 2*time.Second, 10*time.Millisecond, "both participants receive call.missed")
	}
	r := post(s, bob, path+"/accept", nil)
	require.Equal(t, "invalid_transition", r.Code(), "a missed call cannot be answered")
	require.Equal(t, "missed", r.Map(t)["call_status"])
}
