package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// What Appender writes, DecodeEntry reads back: the topic, and the
// envelope byte for byte, in the topic's shard stream.
func TestAppendedEntryDecodes(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	ctx := context.Background()
	app := event.NewAppender(rdb, keys, 1000)
	topic := rkey.UserTopic(id.ID(42))
	env := event.Envelope{Type: event.ReadUpdated, At: time.Date(2026, 12, 3, 17, 0, 0, 123_456_789, time.UTC), Data: []byte(`{"seq":3}`)}
	sid, err := app.AppendEvent(ctx, topic, env)
	require.NoError(t, err)

	entries, err := rdb.Do(ctx, rdb.B().Xrange().Key(keys.Stream(keys.ShardOf(topic))).Start(sid).End(sid).Build()).AsXRange()
	require.NoError(t, err)
	require.Len(t, entries, 1)
	got, err := event.DecodeEntry(entries[0].FieldValues)
	require.NoError(t, err)
	require.Equal(t, topic, got.Topic)
	require.JSONEq(t, `{"type":"read.updated","at":"2026-12-03T17:00:00.123Z","data":{"seq":3}}`, string(got.Envelope))

	_, err = event.DecodeEntry(map[string]string{event.FieldTopic: topic})
	require.ErrorIs(t, err, event.ErrBadEntry)
}
