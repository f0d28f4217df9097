// Package convtest helps the messaging packages' tests: users with tokens
// made straight in the database (no password hashing), conversations made
// through the API, and readers of what the api appended to the streams.
package convtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// User is a signed-in user of a test stack.
type User struct {
	ID    id.ID
	Name  string
	Token string
}

var serial atomic.Int64

// NewUser inserts a user named name (made unique) with a session and issues
// an access token for it.
func NewUser(t testing.TB, s *apitest.Stack, name string) User {
	t.Helper()
	ctx := context.Background()
	u := User{ID: s.Deps.IDs.Next(), Name: fmt.Sprintf("%s%d", name, serial.Add(1))}
	_, err := s.Deps.DB.Exec(ctx, `INSERT INTO users (id, email, username, display_name, password_hash)
VALUES ($1, $2 || '@example.com', $2, $3, 'not-a-hash')`, int64(u.ID), u.Name, "The "+u.Name)
	require.NoError(t, err)
	sid := s.Deps.IDs.Next()
	_, err = s.Deps.DB.Exec(ctx, `INSERT INTO auth_sessions (id, user_id, expires_at, access_until)
VALUES ($1, $2, now() + interval '1 day', now() + interval '1 day')`, int64(sid), int64(u.ID))
	require.NoError(t, err)
	u.Token, _, err = s.Deps.Issuer.Issue(u.ID, sid)
	require.NoError(t, err)
	return u
}

// Conversation is the part of a conversation answer tests look at.
type Conversation struct {
	ID          id.ID   `json:"id"`
	Kind        string  `json:"kind"`
	Name        *string `json:"name"`
	Topic       string  `json:"topic"`
	MemberCount int     `json:"member_count"`
	Role        string  `json:"role"`
	UnreadCount int     `json:"unread_count"`
	LastSeq     *int64  `json:"last_seq"`
	LastMessage *struct {
		ID   id.ID   `json:"id"`
		Body *string `json:"body"`
	} `json:"last_message"`
}

// Create makes a conversation as u and expects 201.
func Create(t testing.TB, s *apitest.Stack, u User, kind, name string, members ...User) Conversation {
	t.Helper()
	body := map[string]any{"kind": kind}
	if name != "" {
		body["name"] = name
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID.String()
	}
	if len(ids) > 0 {
		body["member_ids"] = ids
	}
	r := s.Do("POST", "/conversations", u.Token, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var c Conversation
	r.JSON(t, &c)
	return c
}

// Message is the part of a message answer tests look at.
type Message struct {
	ID          id.ID   `json:"id"`
	UserID      *id.ID  `json:"user_id"`
	ParentID    *id.ID  `json:"parent_id"`
	Body        *string `json:"body"`
	ReplyCount  int     `json:"reply_count"`
	DeletedAt   *string `json:"deleted_at"`
	EditedAt    *string `json:"edited_at"`
	ClientMsgID string  `json:"client_msg_id"`
	Reactions   []struct {
		Emoji string `json:"emoji"`
		Count int    `json:"count"`
		Me    *bool  `json:"me"`
	} `json:"reactions"`
}

// Send posts body to c as u and expects 201.
func Send(t testing.TB, s *apitest.Stack, u User, c id.ID, body string) Message {
	t.Helper()
	r := s.Do("POST", "/conversations/"+c.String()+"/messages", u.Token, map[string]any{"body": body})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var m Message
	r.JSON(t, &m)
	return m
}

// Upload uploads body as u (POST /files, the bytes where the answer says:
// the api's own route with u's token, or a store's presigned URL, then
// POST /files/:id/complete), expects it complete, and decodes the
// complete file into out.
func Upload(t testing.TB, s *apitest.Stack, u User, name string, body []byte, purpose string, out any) {
	t.Helper()
	r := s.Do("POST", "/files", u.Token, map[string]any{"name": name, "size": len(body), "purpose": purpose,
		"content_type": "application/octet-stream"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var up struct {
		File struct {
			ID id.ID `json:"id"`
		} `json:"file"`
		URL     string            `json:"upload_url"`
		Headers map[string]string `json:"upload_headers"`
	}
	r.JSON(t, &up)
	require.Less(t, PutBytes(t, s, u, up.URL, up.Headers, body), 300)
	r = s.Do("POST", "/files/"+up.File.ID.String()+"/complete", u.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, out)
}

// PNG encodes a w×h picture (a gradient, so scaling shows).
func PNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 100, A: 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// PutBytes sends body with PUT where an upload answer said (url and
// headers), as a browser would: to the api (a path) with u's token, or to a
// store's presigned URL (absolute, no token). It returns the status.
func PutBytes(t testing.TB, s *apitest.Stack, u User, url string, headers map[string]string, body []byte) int {
	t.Helper()
	if strings.HasPrefix(url, "/") {
		return s.DoWith("PUT", url, u.Token, body, headers["Content-Type"], nil).Status
	}
	req, err := http.NewRequest("PUT", url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.Client.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Logf("PUT %s: %d %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// Page is a list answer.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Get reads path as u, expects 200 and decodes the body into a T.
func Get[T any](t testing.TB, s *apitest.Stack, u User, path string) T {
	t.Helper()
	r := s.Do("GET", path, u.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "GET %s: %s", path, r.Body)
	var v T
	r.JSON(t, &v)
	return v
}

// Entry is a stream entry the api appended, decoded.
type Entry struct {
	Topic string
	Env   event.Envelope
}

// Stream returns, in stream order, the entries of topic's shard stream.
// It reads through the stack's main Redis client, which in tests is the
// same server as the streams': a test may cut the api's streams connection
// and still look.
func Stream(t testing.TB, s *apitest.Stack, topic string) []Entry {
	t.Helper()
	rdb, keys := s.Deps.Redis, s.Deps.Keys
	res, err := rdb.Do(context.Background(),
		rdb.B().Xrange().Key(keys.Stream(keys.ShardOf(topic))).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	var out []Entry
	for _, x := range res {
		e, err := event.DecodeEntry(x.FieldValues)
		require.NoError(t, err)
		if e.Topic != topic {
			continue
		}
		var env event.Envelope
		require.NoError(t, json.Unmarshal(e.Envelope, &env))
		out = append(out, Entry{Topic: e.Topic, Env: env})
	}
	return out
}

// Seqs lists the seqs of c's events on its stream, in stream order.
func Seqs(t testing.TB, s *apitest.Stack, c id.ID) []int64 {
	var out []int64
	for _, e := range Stream(t, s, rkey.ConversationTopic(c)) {
		out = append(out, e.Env.Seq)
	}
	return out
}

// WaitSeqs waits until c's stream holds exactly the seqs 1..n in order.
func WaitSeqs(t testing.TB, s *apitest.Stack, c id.ID, n int) {
	t.Helper()
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	require.Eventually(t, func() bool {
		got := Seqs(t, s, c)
		if len(got) != n {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "stream seqs of %s: want 1..%d", c, n)
}
