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
	require.JSONEq(t, `{"id":"384979308545839104","username":"ada","display_name":"Ada","created_at":"2026-11-28T09:00:00.123Z"}`, string(b),
		"ids are strings, times millisecond UTC, and others never see the email")

	b, err = json.Marshal(RenderSelf(u))
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"384979308545839104","username":"ada","display_name":"Ada","email":"ada@example.com","created_at":"2026-11-28T09:00:00.123Z"}`, string(b))
}

func TestColumnsOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "u.id, u.email, u.username, u.display_name, u.created_at", ColumnsOf("u"))
	require.Equal(t, Columns, "id, email, username, display_name, created_at")
}
