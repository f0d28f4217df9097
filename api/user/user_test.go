package user

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRender(t *testing.T) {
	t.Parallel()
	u := User{ID: 384979308545839104, Email: "ada@example.com", Username: "ada", DisplayName: "Ada",
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))}

	b, err := json.Marshal(Render(u))
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"384979308545839104","username":"ada","display_name":"Ada","created_at":"2026-11-28T09:00:00.123Z","avatar_id":null,"status":null,"time_zone":""}`, string(b),
		"ids are strings, times millisecond UTC, and others never see the email")

	b, err = json.Marshal(RenderSelf(u))
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"384979308545839104","username":"ada","display_name":"Ada","email":"ada@example.com","created_at":"2026-11-28T09:00:00.123Z","avatar_id":null,"status":null,"time_zone":""}`, string(b))

	// A profile: the avatar's id, the status until it expires, the zone.
	soon := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	u.AvatarID, u.StatusText, u.StatusEmoji, u.StatusExpiresAt, u.TimeZone = 42, "away", "🌴", &soon, "Europe/Paris"
	j := Render(u)
	require.Equal(t, "42", j.AvatarID.String())
	require.Equal(t, &Status{Text: "away", Emoji: "🌴", ExpiresAt: &soon}, j.Status)
	require.Equal(t, "Europe/Paris", j.TimeZone)
	past := time.Now().Add(-time.Second)
	u.StatusExpiresAt = &past
	require.Nil(t, Render(u).Status, "an expired status is not shown")
}

func TestColumnsOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "u.id, u.email, u.username, u.display_name, u.created_at, coalesce(u.avatar_id, 0), u.status_text, "+
		"u.status_emoji, u.status_expires_at, u.time_zone", ColumnsOf("u"))
	require.Equal(t, "id, email, username, display_name, created_at, coalesce(avatar_id, 0) AS avatar_id, status_text, "+
		"status_emoji, status_expires_at, time_zone", Columns)
	require.Len(t, Dest(&User{}), 10, "one destination per column")
}
