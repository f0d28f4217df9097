package message_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

type page = convtest.Page[convtest.Message]

func msgs(c id.ID) string { return "/conversations/" + c.String() + "/messages" }

func TestSendRetriedWithSameClientMsgIDMakesOneMessage(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	send := func(u convtest.User, c id.ID, key string) *apitest.Response {
		return s.Do("POST", msgs(c), u.Token, map[string]any{"body": "hello", "client_msg_id": key})
	}
	first := send(ann, g.ID, "k-1")
	require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
	retry := send(ann, g.ID, "k-1")
	require.Equal(t, http.StatusOK, retry.Status)
	require.JSONEq(t, string(first.Body), string(retry.Body), "a replay answers the same body")
	var m convtest.Message
	first.JSON(t, &m)
	require.Equal(t, "k-1", m.ClientMsgID)

	// Retries racing each other still make one message.
	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); statuses <- send(ann, g.ID, "k-2").Status }()
	}
	wg.Wait()
	close(statuses)
	created := 0
	for st := range statuses {
		require.Contains(t, []int{http.StatusCreated, http.StatusOK}, st)
		if st == http.StatusCreated {
			created++
		}
	}
	require.Equal(t, 1, created)
	require.Equal(t, http.StatusCreated, send(bob, g.ID, "k-1").Status, "keys are per user")

	var n int
	require.NoError(t, s.Deps.DB.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE conversation_id = $1`, int64(g.ID)).Scan(&n))
	require.Equal(t, 3, n)
	other := convtest.Create(t, s, ann, "channel", "other")
	r := send(ann, other.ID, "k-1")
	require.Equal(t, http.StatusConflict, r.Status, "a key names one message, in one conversation")
}

func TestSoftDeletedMessageKeepsItsRowButNeverItsBody(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	owner, ann, bob := convtest.NewUser(t, s, "owner"), convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, owner, "group", "g", ann, bob)
	secret := convtest.Send(t, s, ann, g.ID, "the secret")
	reply := s.Do("POST", msgs(g.ID), bob.Token, map[string]any{"body": "a reply", "parent_id": secret.ID.String()})
	require.Equal(t, http.StatusCreated, reply.Status)
	require.Equal(t, http.StatusCreated, s.Do("POST", "/messages/"+secret.ID.String()+"/reactions", bob.Token, map[string]any{"emoji": "👍"}).Status)
	convtest.Get[page](t, s, ann, msgs(g.ID)) // warm the cache with the live message

	require.Equal(t, http.StatusForbidden, s.Do("DELETE", "/messages/"+secret.ID.String(), bob.Token, nil).Status,
		"another member may not delete it")
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+secret.ID.String(), ann.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+secret.ID.String(), ann.Token, nil).Status, "again: a no-op")

	var body *string
	var deleted bool
	require.NoError(t, s.Deps.DB.QueryRow(context.Background(),
		`SELECT body, deleted_at IS NOT NULL FROM messages WHERE id = $1`, int64(secret.ID)).Scan(&body, &deleted))
	require.True(t, deleted, "the row stays")

	check := func(raw string) {
		t.Helper()
		require.NotContains(t, raw, "the secret")
	}
	for _, u := range []convtest.User{ann, bob, owner} {
		r := s.Do("GET", msgs(g.ID), u.Token, nil)
		check(string(r.Body))
		var p page
		r.JSON(t, &p)
		require.Len(t, p.Items, 1)
		tomb := p.Items[0]
		require.Equal(t, secret.ID, tomb.ID, "listed in its place")
		require.Nil(t, tomb.Body)
		require.NotNil(t, tomb.DeletedAt)
		require.Nil(t, tomb.UserID)
		require.NotNil(t, tomb.Reactions)
		require.Empty(t, tomb.Reactions)
		require.Equal(t, 1, tomb.ReplyCount, "the thread survives its root")
		var raw []map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(mustItems(t, r.Body), &raw))
		require.Equal(t, "null", string(raw[0]["body"]))
	}
	check(string(s.Do("GET", "/conversations?limit=5", ann.Token, nil).Body))
	check(string(s.Do("GET", "/conversations/"+g.ID.String(), ann.Token, nil).Body))
	evs := s.Do("GET", "/conversations/"+g.ID.String()+"/events", ann.Token, nil)
	require.Contains(t, string(evs.Body), event.MessageDeleted)
	check(string(evs.Body)) // the log's earlier message.created lost the body too
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		if e.Env.Type == event.MessageDeleted {
			check(string(e.Env.Data))
			require.Contains(t, string(e.Env.Data), `"body":null`)
		}
	}
	r := s.Do("PATCH", "/messages/"+secret.ID.String(), ann.Token, map[string]any{"body": "back"})
	require.Equal(t, http.StatusConflict, r.Status)
	r = s.Do("POST", "/messages/"+secret.ID.String()+"/reactions", ann.Token, map[string]any{"emoji": "🎉"})
	require.Equal(t, http.StatusConflict, r.Status)

	// The owner (a manager) may delete anyone's message.
	var rep convtest.Message
	reply.JSON(t, &rep)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+rep.ID.String(), owner.Token, nil).Status)
	thread := convtest.Get[page](t, s, ann, "/messages/"+secret.ID.String()+"/replies")
	require.Len(t, thread.Items, 1)
	require.Nil(t, thread.Items[0].Body)
}

func mustItems(t *testing.T, body []byte) []byte {
	var p struct {
		Items json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &p))
	return p.Items
}

func TestSeqHasNoGapsUnder50ConcurrentSenders(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_MESSAGES": "100000"})
	owner := convtest.NewUser(t, s, "owner")
	senders := make([]convtest.User, 50)
	for i := range senders {
		senders[i] = convtest.NewUser(t, s, "sender")
	}
	g := convtest.Create(t, s, owner, "group", "busy", senders...) // seqs 1..51: member.joined
	const each = 4
	var wg sync.WaitGroup
	for _, u := range senders {
		wg.Add(1)
		go func(u convtest.User) {
			defer wg.Done()
			for i := range each {
				r := s.Do("POST", msgs(g.ID), u.Token, map[string]any{"body": "race " + string(rune('a'+i))})
				require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			}
		}(u)
	}
	wg.Wait()
	total := 51 + 50*each
	rows, err := s.Deps.DB.Query(context.Background(),
		`SELECT seq FROM conversation_events WHERE conversation_id = $1 ORDER BY seq`, int64(g.ID))
	require.NoError(t, err)
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Len(t, seqs, total)
	for i, sq := range seqs {
		require.Equal(t, int64(i+1), sq, "seq is gap-free and unique")
	}
	// The racing publishers still put the conversation's events on the
	// stream in seq order, each once.
	convtest.WaitSeqs(t, s, g.ID, total)
}

func TestThreads(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	other := convtest.Create(t, s, ann, "group", "other")
	root := convtest.Send(t, s, ann, g.ID, "root")
	reply := func(u convtest.User, c id.ID, parent id.ID, body string) *apitest.Response {
		return s.Do("POST", msgs(c), u.Token, map[string]any{"body": body, "parent_id": parent.String()})
	}
	var replies []convtest.Message
	for i := range 5 {
		r := reply(bob, g.ID, root.ID, "reply "+string(rune('0'+i)))
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		var m convtest.Message
		r.JSON(t, &m)
		require.Equal(t, root.ID, *m.ParentID)
		replies = append(replies, m)
	}
	require.Equal(t, http.StatusBadRequest, reply(ann, g.ID, replies[0].ID, "nested").Status, "no replies to replies")
	require.Equal(t, http.StatusBadRequest, reply(ann, other.ID, root.ID, "elsewhere").Status, "the parent is in this conversation")
	require.Equal(t, http.StatusBadRequest, reply(ann, g.ID, s.Deps.IDs.Next(), "nothing").Status)

	top := convtest.Get[page](t, s, ann, msgs(g.ID))
	require.Len(t, top.Items, 1, "replies live in their thread, not the timeline")
	require.Equal(t, 5, top.Items[0].ReplyCount)
	var raw []map[string]any
	require.NoError(t, json.Unmarshal(mustItems(t, s.Do("GET", msgs(g.ID), ann.Token, nil).Body), &raw))
	require.NotNil(t, raw[0]["last_reply_at"])

	p1 := convtest.Get[page](t, s, ann, "/messages/"+root.ID.String()+"/replies?limit=3")
	require.Equal(t, []id.ID{replies[0].ID, replies[1].ID, replies[2].ID}, idsOf(p1), "oldest first")
	p2 := convtest.Get[page](t, s, ann, "/messages/"+root.ID.String()+"/replies?limit=3&after="+*p1.NextCursor)
	require.Equal(t, []id.ID{replies[3].ID, replies[4].ID}, idsOf(p2))
	require.Nil(t, p2.NextCursor)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/messages/"+replies[0].ID.String()+"/replies", ann.Token, nil).Status)
}

func idsOf(p page) []id.ID {
	out := []id.ID{}
	for _, m := range p.Items {
		out = append(out, m.ID)
	}
	return out
}

func TestEditAndValidation(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	m := convtest.Send(t, s, ann, g.ID, "  padded \n ")
	require.Equal(t, "padded", *m.Body, "bodies are trimmed")
	require.Nil(t, m.EditedAt)
	for _, bad := range []string{"", "   \n\t", strings.Repeat("é", 4001)} {
		r := s.Do("POST", msgs(g.ID), ann.Token, map[string]any{"body": bad})
		require.Equal(t, http.StatusBadRequest, r.Status, "%q", bad)
		require.Equal(t, "validation_failed", r.Code())
	}
	// A NUL is refused by the HTTP layer, for every JSON string alike.
	r := s.Do("POST", msgs(g.ID), ann.Token, map[string]any{"body": "nul\x00byte"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, "bad_request", r.Code())
	require.Equal(t, http.StatusCreated, s.Do("POST", msgs(g.ID), ann.Token, map[string]any{"body": strings.Repeat("é", 4000)}).Status)

	require.Equal(t, http.StatusForbidden, s.Do("PATCH", "/messages/"+m.ID.String(), bob.Token, map[string]any{"body": "mine now"}).Status)
	r = s.Do("PATCH", "/messages/"+m.ID.String(), ann.Token, map[string]any{"body": "edited"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var e convtest.Message
	r.JSON(t, &e)
	require.Equal(t, "edited", *e.Body)
	require.NotNil(t, e.EditedAt)
	p := convtest.Get[page](t, s, bob, msgs(g.ID))
	require.Equal(t, "edited", *p.Items[1].Body, "the edit is visible in the very next read")
	require.Equal(t, http.StatusNotFound, s.Do("PATCH", "/messages/"+s.Deps.IDs.Next().String(), ann.Token, map[string]any{"body": "x"}).Status)
}

func TestMessageSendsAreRateLimited(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_MESSAGES": "3"})
	ann := convtest.NewUser(t, s, "ann")
	g := convtest.Create(t, s, ann, "group", "g")
	for range 3 {
		convtest.Send(t, s, ann, g.ID, "ok")
	}
	r := s.Do("POST", msgs(g.ID), ann.Token, map[string]any{"body": "one too many"})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "rate_limited", r.Code())
	require.NotEmpty(t, r.Header.Get("Retry-After"))
}

func TestPublicChannelReadableBeforeJoining(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	ch := convtest.Create(t, s, ann, "channel", "open")
	convtest.Send(t, s, ann, ch.ID, "welcome")
	p := convtest.Get[page](t, s, bob, msgs(ch.ID))
	require.Len(t, p.Items, 1)
	require.Equal(t, http.StatusForbidden, s.Do("POST", msgs(ch.ID), bob.Token, map[string]any{"body": "hi"}).Status)
}
