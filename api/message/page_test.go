package message

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

// TestCachedPageAnswersWhatRenderingAnswers: a page read from the cached
// entry (rendered lines) is, byte for byte, the page rendered from the
// messages for each reader — plain messages, a reply root, an edit, a
// mention, a tombstone, and reactions whose `me` differs per reader — at
// every limit, with the same next cursor.
func TestCachedPageAnswersWhatRenderingAnswers(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 12, 0, 0, 123456789, time.UTC)
	ann, bob := id.ID(101), id.ID(102)
	edited, deleted, replied := at.Add(time.Minute), at.Add(2*time.Minute), at.Add(3*time.Minute)
	ms := []Message{
		{ID: 9, ConversationID: 1, UserID: ann, Body: "newest, \"quoted\" <b>", CreatedAt: at.Add(9 * time.Second)},
		{ID: 8, ConversationID: 1, UserID: bob, Body: "liked", CreatedAt: at.Add(8 * time.Second),
			Reactions: []Reaction{{Emoji: "👍", Users: []id.ID{ann}}, {Emoji: "🎉", Users: []id.ID{ann, bob}}}},
		{ID: 7, ConversationID: 1, UserID: ann, Body: "gone", CreatedAt: at.Add(7 * time.Second), DeletedAt: &deleted,
			Reactions: []Reaction{{Emoji: "👍", Users: []id.ID{bob}}}},
		{ID: 6, ConversationID: 1, UserID: bob, Body: "root", CreatedAt: at.Add(6 * time.Second), ReplyCount: 2, LastReplyAt: &replied},
		{ID: 5, ConversationID: 1, UserID: ann, Body: "hi @bob", CreatedAt: at.Add(5 * time.Second), EditedAt: &edited,
			Mentions: &mention.Mentions{Users: []mention.User{{ID: bob, Username: "bob"}}}},
	}
	entry, err := encodePage(ms)
	require.NoError(t, err)
	for _, reader := range []id.ID{ann, bob} {
		for limit := 1; limit <= len(ms)+1; limit++ {
			want, err := renderPage(reader, ms, limit)
			require.NoError(t, err)
			got, err := decodePage(string(entry), reader, limit)
			require.NoError(t, err)
			require.Equal(t, string(want.AppendJSON(nil)), string(got.AppendJSON(nil)), "reader %d, limit %d", reader, limit)
			// And both are what encoding the page with encoding/json gives.
			items := make([]any, min(limit, len(ms)))
			for i := range items {
				items[i] = For(ms[i], reader)
			}
			doc := map[string]any{"items": items, "next_cursor": want.Next}
			std, err := json.Marshal(doc)
			require.NoError(t, err)
			require.JSONEq(t, string(std), string(got.AppendJSON(nil)))
		}
	}
	got, err := decodePage(string(entry), bob, 10)
	require.NoError(t, err)
	require.Contains(t, got.Items[1], `"me":true`, "bob reacted 🎉 to message 8")
	require.Contains(t, got.Items[1], `"me":false`, "bob did not react 👍 to message 8")
	require.Nil(t, got.Next)

	_, err = decodePage("9 {}\nnot a line", bob, 10)
	require.Error(t, err)
}
