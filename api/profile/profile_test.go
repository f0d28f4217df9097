package profile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
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

type userJSON struct {
	ID          id.ID   `json:"id"`
	DisplayName string  `json:"display_name"`
	Email       string  `json:"email"`
	AvatarID    *id.ID  `json:"avatar_id"`
	TimeZone    string  `json:"time_zone"`
	Status      *status `json:"status"`
}

type status struct {
	Text      string     `json:"text"`
	Emoji     string     `json:"emoji"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type fileJSON struct {
	ID id.ID `json:"id"`
}

// A person sets their display name, avatar (an uploaded image, resized to
// 64 and 256 px squares), status (text, emoji, expiry) and time zone; the
// change reaches, as user.updated, their own topic and those of the people
// who share a conversation with them, and nobody else's.
func TestProfile(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "friends", bob)

	var av fileJSON
	convtest.Upload(t, s, ann, "me.png", convtest.PNG(t, 300, 200), "avatar", &av)
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	r := s.Do("PATCH", "/me", ann.Token, map[string]any{"display_name": "  Ann Lovelace ", "avatar_id": av.ID,
		"status": map[string]any{"text": "On holiday", "emoji": "🌴", "expires_at": until}, "time_zone": "Europe/Paris"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var me userJSON
	r.JSON(t, &me)
	require.Equal(t, "Ann Lovelace", me.DisplayName)
	require.NotEmpty(t, me.Email, "the caller sees their email")
	require.Equal(t, av.ID, *me.AvatarID)
	require.Equal(t, &status{Text: "On holiday", Emoji: "🌴", ExpiresAt: &until}, me.Status)
	require.Equal(t, "Europe/Paris", me.TimeZone)

	// Others see it, without the email; member lists carry it too.
	seen := convtest.Get[userJSON](t, s, bob, "/users/"+ann.ID.String())
	require.Empty(t, seen.Email)
	require.Equal(t, me.Status, seen.Status)
	require.Equal(t, av.ID, *seen.AvatarID)
	members := convtest.Get[convtest.Page[struct {
		User userJSON `json:"user"`
	}]](t, s, bob, "/conversations/"+g.ID.String()+"/members")
	found := false
	for _, m := range members.Items {
		if m.User.ID == ann.ID {
			found = true
			require.Equal(t, av.ID, *m.User.AvatarID)
			require.Equal(t, "On holiday", m.User.Status.Text)
		}
	}
	require.True(t, found)

	// The avatar's sizes, served to anyone (an <img> sends no token).
	for size, side := range map[string]int{"64": 64, "256": 200} {
		resp, err := http.Get(s.URL + "/avatars/" + av.ID.String() + "?size=" + size)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, image.Rect(0, 0, side, side), img.Bounds(), "size %s: a centred square, never enlarged", size)
	}
	require.Equal(t, http.StatusBadRequest, s.Do("GET", "/avatars/"+av.ID.String()+"?size=100", "", nil).Status)

	// user.updated: ann's devices and bob, who shares a group; not eve.
	updated := func(u convtest.User) int {
		n := 0
		for _, e := range convtest.Stream(t, s, rkey.UserTopic(u.ID)) {
			if e.Env.Type == event.UserUpdated {
				var got userJSON
				require.NoError(t, json.Unmarshal(e.Env.Data, &got))
				require.Equal(t, ann.ID, got.ID)
				require.Empty(t, got.Email, "events never carry the email")
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, updated(ann))
	require.Equal(t, 1, updated(bob))
	require.Zero(t, updated(eve))

	// Each field alone; null clears the status and the avatar.
	r = s.Do("PATCH", "/me", ann.Token, map[string]any{"status": nil, "avatar_id": nil})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &me)
	require.Nil(t, me.Status)
	require.Nil(t, me.AvatarID)
	require.Equal(t, "Ann Lovelace", me.DisplayName, "fields not sent are unchanged")
	require.Equal(t, "Europe/Paris", me.TimeZone)

	// A status past its expiry is not shown.
	require.Equal(t, http.StatusOK, s.Do("PATCH", "/me", ann.Token, map[string]any{"status": map[string]any{"emoji": ":coffee:"}}).Status)
	require.Equal(t, ":coffee:", convtest.Get[userJSON](t, s, bob, "/users/"+ann.ID.String()).Status.Emoji)
	_, err := s.Deps.DB.Exec(context.Background(), `UPDATE users SET status_expires_at = now() - interval '1 second' WHERE id = $1`, int64(ann.ID))
	require.NoError(t, err)
	require.Nil(t, convtest.Get[userJSON](t, s, bob, "/users/"+ann.ID.String()).Status)

	// What is refused.
	var attachment fileJSON
	convtest.Upload(t, s, ann, "doc.txt", []byte("a text file"), "attachment", &attachment)
	var bobs fileJSON
	convtest.Upload(t, s, bob, "bob.png", convtest.PNG(t, 10, 10), "avatar", &bobs)
	for field, body := range map[string]map[string]any{
		"time_zone":         {"time_zone": "Mars/Olympus"},
		"display_name":      {"display_name": "  "},
		"status.expires_at": {"status": map[string]any{"text": "x", "expires_at": time.Now().Add(-time.Minute)}},
		"status.emoji":      {"status": map[string]any{"emoji": "not an emoji"}},
		"status":            {"status": map[string]any{"text": ""}},
		"avatar_id":         {"avatar_id": attachment.ID},
	} {
		r := s.Do("PATCH", "/me", ann.Token, body)
		require.Equal(t, "validation_failed", r.Code(), "%s: %s", field, r.Body)
		require.Equal(t, field, r.Map(t)["field"], "%s", r.Body)
	}
	r = s.Do("PATCH", "/me", ann.Token, map[string]any{"avatar_id": bobs.ID})
	require.Equal(t, "avatar_id", r.Map(t)["field"], "someone else's avatar: %s", r.Body)
}
