package conversation

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func TestViewSplicesTheCallersFieldsIntoTheResource(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 120_456_000, time.UTC)
	name := "general"
	res, err := json.Marshal(Render(Conversation{ID: 7, Kind: Channel, Name: &name, CreatedBy: 3, CreatedAt: at, UpdatedAt: at, MemberCount: 2}))
	require.NoError(t, err)
	seq := int64(42)
	b, err := json.Marshal(View{ID: 7, Resource: string(res), Role: Admin, LastRead: 99, Unread: 4, Mentions: 3,
		Level: NotifyMentions, MutedUntil: at.UnixMilli(), LastActivityAt: at, LastMessage: `{"id":"100"}`, LastSeq: &seq})
	require.NoError(t, err)
	want, err := json.Marshal(map[string]any{
		"id": "7", "kind": "channel", "name": "general", "topic": "", "created_by": "3",
		"created_at": at.Truncate(time.Millisecond), "updated_at": at.Truncate(time.Millisecond), "member_count": 2,
		"archived_at": nil, "role": "admin", "last_read_message_id": "99", "unread_count": 4, "mention_count": 3,
		"notify_level": "mentions", "muted_until": at.Truncate(time.Millisecond),
		"last_activity_at": at.Truncate(time.Millisecond), "last_message": map[string]string{"id": "100"}, "last_seq": 42,
	})
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(b))

	b, err = json.Marshal(View{ID: 7, Resource: string(res), LastActivityAt: at})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Nil(t, m["last_read_message_id"])
	require.Nil(t, m["last_message"])
	require.NotContains(t, m, "role")
	require.NotContains(t, m, "notify_level", "a non-member has no settings")
	require.NotContains(t, m, "muted_until")
	require.NotContains(t, m, "last_seq")

	_, err = json.Marshal(View{ID: id.ID(7), Resource: `[]`})
	require.Error(t, err)
}

func TestCachedMembershipsRoundTrip(t *testing.T) {
	t.Parallel()
	ms := []memberOf{{Conversation: 12, Role: Owner, Level: NotifyAll},
		{Conversation: 384981121043009536, Role: Member, LastRead: 384981121043009537, Level: NotifyNone, MutedUntil: 1893456000000}}
	back, err := decodeMemberOf(string(encodeMemberOf(ms)))
	require.NoError(t, err)
	require.Equal(t, ms, back)
	back, err = decodeMemberOf("12 owner 7\n")
	require.NoError(t, err, "an entry cached before notification settings")
	require.Equal(t, []memberOf{{Conversation: 12, Role: Owner, LastRead: 7, Level: NotifyAll}}, back)
	back, err = decodeMemberOf(string(encodeMemberOf(nil)))
	require.NoError(t, err)
	require.Empty(t, back)
	for _, bad := range []string{"1 owner\n", "x owner 0\n", "1 owner 0 extra\n"} {
		_, err := decodeMemberOf(bad)
		require.Error(t, err, "%q", bad)
	}
}

func FuzzDecodeMemberOf(f *testing.F) {
	f.Add("12 owner 0\n13 member 99\n")
	f.Fuzz(func(t *testing.T, b string) {
		ms, err := decodeMemberOf(b)
		if err != nil {
			return
		}
		again, err := decodeMemberOf(string(encodeMemberOf(ms)))
		if err != nil || len(again) != len(ms) {
			t.Fatalf("round trip of %q: %v", b, err)
		}
	})
}
