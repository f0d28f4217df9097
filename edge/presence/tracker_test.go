package presence

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

type bundle struct {
	rdb  rueidis.Client
	keys rkey.Space
	app  *event.Appender
}

func setup(t *testing.T) bundle {
	rdb, keys := redistest.Client(t)
	return bundle{rdb, keys, event.NewAppender(rdb, keys, 10_000)}
}

func (b bundle) tracker(t *testing.T, node string, ttl time.Duration) (*Tracker, context.CancelFunc) {
	tr := New(b.rdb, b.keys, b.app, Config{Node: node, Grace: 150 * time.Millisecond, NodeTTL: ttl, Flush: 20 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go tr.Run(ctx)
	t.Cleanup(cancel)
	return tr, cancel
}

// changes reads the presence events of user u from its shard stream.
func (b bundle) changes(t *testing.T, u id.ID) []bool {
	t.Helper()
	topic := rkey.PresenceTopic(u)
	entries, err := b.rdb.Do(context.Background(), b.rdb.B().Xrange().Key(b.keys.Stream(b.keys.ShardOf(topic))).
		Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	var out []bool
	for _, e := range entries {
		entry, err := event.DecodeEntry(e.FieldValues)
		require.NoError(t, err)
		if entry.Topic != topic {
			continue
		}
		var env struct {
			Type string
			Data struct {
				Users []struct {
					ID           id.ID   `json:"id"`
					Online       bool    `json:"online"`
					LastActiveAt *string `json:"last_active_at"`
				}
			}
		}
		require.NoError(t, json.Unmarshal(entry.Envelope, &env))
		require.Equal(t, event.Presence, env.Type)
		require.Len(t, env.Data.Users, 1)
		require.Equal(t, u, env.Data.Users[0].ID)
		require.NotNil(t, env.Data.Users[0].LastActiveAt)
		out = append(out, env.Data.Users[0].Online)
	}
	return out
}

func TestOnlineAcrossNodesWithGrace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, _ := b.tracker(t, "a", 10*time.Second)
	c, _ := b.tracker(t, "c", 10*time.Second)
	const u = id.ID(42)
	eventually := func(want ...bool) {
		t.Helper()
		require.Eventually(t, func() bool { return slices.Equal(b.changes(t, u), want) }, 3*time.Second, 10*time.Millisecond)
	}

	require.Equal(t, 1, a.Connect(u))
	eventually(true)
	require.Equal(t, 1, c.Connect(u))
	require.Equal(t, 2, c.Connect(u))
	a.Disconnect(u)
	c.Disconnect(u)
	// Still online on c; and a reload on c (close then open within the
	// grace) announces nothing either.
	c.Disconnect(u)
	c.Connect(u)
	require.Eventually(t, func() bool { return a.Users() == 0 }, time.Second, 10*time.Millisecond)
	require.Never(t, func() bool { return len(b.changes(t, u)) != 1 }, 400*time.Millisecond, 20*time.Millisecond)
	c.Disconnect(u)
	eventually(true, false)

	st, err := a.Snapshot(context.Background(), []id.ID{u, 7})
	require.NoError(t, err)
	require.False(t, st[0].Online)
	require.NotNil(t, st[0].LastActive, "last seen is kept")
	require.False(t, st[1].Online)
	require.Nil(t, st[1].LastActive, "never seen")
	a.Connect(7)
	require.Eventually(t, func() bool {
		st, err := c.Snapshot(context.Background(), []id.ID{7})
		return err == nil && st[0].Online
	}, 3*time.Second, 10*time.Millisecond)
}

func TestDeadNodeIsReaped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const ttl = 400 * time.Millisecond
	dying, kill := b.tracker(t, "dying", ttl)
	_, _ = b.tracker(t, "survivor", ttl)
	const u = id.ID(9)
	dying.Connect(u)
	require.Eventually(t, func() bool { return slices.Equal(b.changes(t, u), []bool{true}) }, 3*time.Second, 10*time.Millisecond)
	killed := time.Now()
	kill() // no goodbye: its heartbeat just stops
	require.Eventually(t, func() bool { return slices.Equal(b.changes(t, u), []bool{true, false}) }, 5*time.Second, 10*time.Millisecond)
	require.Less(t, time.Since(killed), ttl*9/8+time.Second)
	n, err := b.rdb.Do(context.Background(), b.rdb.B().Exists().Key(b.keys.EdgeNodeUsers("dying")).Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestGoodbyeAnnouncesOffline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, stop := b.tracker(t, "a", 10*time.Second)
	const u = id.ID(5)
	a.Connect(u)
	require.Eventually(t, func() bool { return slices.Equal(b.changes(t, u), []bool{true}) }, 3*time.Second, 10*time.Millisecond)
	stop()
	a.Disconnect(u)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	a.Goodbye(ctx)
	require.Equal(t, []bool{true, false}, b.changes(t, u))
	nodes, err := b.rdb.Do(ctx, b.rdb.B().Zcard().Key(b.keys.EdgeNodes()).Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, nodes)
}
