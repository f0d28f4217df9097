package message

import (
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/id"

	"github.com/stretchr/testify/require"
)

func TestTailCountsUnreadUpToTheMarker(t *testing.T) {
	t.Parallel()
	tl, err := newTail(tailRow{activity: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		last:   &Message{ID: 50, ConversationID: 9, UserID: 1, Body: "a\nb", Reactions: []Reaction{{Emoji: "👍", Users: []id.ID{2}}}},
		recent: [][2]int64{{50, 1}, {40, 2}, {30, 1}, {20, 2}}})
	require.NoError(t, err)
	require.Equal(t, "50:1,40:2,30:1,20:2", tl.Recent)
	b, err := tl.encode()
	require.NoError(t, err)
	back, err := decodeTail(string(b))
	require.NoError(t, err)
	require.Equal(t, tl, back)
	last, err := back.lastFor(2)
	require.NoError(t, err)
	require.Contains(t, last, `"me":true`)
	require.Contains(t, last, `a\nb`)
	_, err = decodeTail("123\n0\n{}")
	require.Error(t, err)
	for _, c := range []struct {
		marker, viewer int64
		n              int
		reached        bool
	}{
		{50, 2, 0, true},
		{35, 2, 1, true}, // 50 by user 1; 40 is the viewer's own
		{35, 1, 1, true}, // 40 by user 2
		{0, 2, 2, false}, // ran out: more may be older than the list
		{20, 1, 1, true},
	} {
		n, reached, err := tl.countUnread(c.marker, c.viewer)
		require.NoError(t, err)
		require.Equal(t, c.n, n, "%+v", c)
		require.Equal(t, c.reached, reached, "%+v", c)
	}
	tl.Complete = true
	_, reached, err := tl.countUnread(0, 2)
	require.NoError(t, err)
	require.True(t, reached, "a complete list is the whole story")
}

func FuzzDecodeTail(f *testing.F) {
	f.Add("1\n1\n{}\n\n1:2")
	f.Add("\n\n\n\n")
	f.Fuzz(func(t *testing.T, b string) {
		tl, err := decodeTail(b)
		if err == nil {
			_, _, _ = tl.countUnread(0, 0)
		}
	})
}

func FuzzTailCountUnread(f *testing.F) {
	f.Add("50:1,40:2", int64(0), int64(1))
	f.Add("", int64(5), int64(1))
	f.Add("1:2,,3", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, recent string, marker, viewer int64) {
		n, _, err := tail{Recent: recent}.countUnread(marker, viewer)
		if err == nil && n < 0 {
			t.Fatalf("negative count %d", n)
		}
	})
}
