package stream

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

type sink struct {
	mu  sync.Mutex
	got []*hub.Event
}

func (s *sink) Publish(evs []*hub.Event) {
	s.mu.Lock()
	s.got = append(s.got, evs...)
	s.mu.Unlock()
}

func (s *sink) Wait(context.Context, int64) {}

func (s *sink) events() []*hub.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*hub.Event(nil), s.got...)
}

func TestConsumerReadsEveryShardInOrder(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	readsEveryShardInOrder(t, rdb, keys, map[int]int{1: 1, 4: 4})
}

// On a Redis Cluster (one named by any node's URL) the consumer finds the
// shard streams' slots itself: one reader per shard whatever Readers asks
// (one XREAD naming several slots is refused), and every shard is read.
// The shard streams spread over every master.
func TestConsumerReadsEveryShardOfAClusterInOrder(t *testing.T) {
	t.Parallel()
	opt, err := rueidis.ParseURL(cluster.Nodes()[1].URL)
	require.NoError(t, err)
	rdb, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	defer rdb.Close()
	require.Equal(t, rueidis.ClientModeCluster, rdb.Mode())
	keys := rkey.New(redistest.Prefix(t), 8)
	defer redistest.Flush(rdb, keys.Prefix)

	holders := map[int]bool{}
	for _, s := range keys.Streams() {
		m, err := cluster.MasterOf(s)
		require.NoError(t, err)
		holders[m.Port] = true
	}
	require.Len(t, holders, 3, "the 8 shard streams spread over the 3 masters")

	readsEveryShardInOrder(t, rdb, keys, map[int]int{1: 8, 8: 8, 20: 8})
}

func TestPlanGroupsStreamsBySlot(t *testing.T) {
	t.Parallel()
	streams := []string{"a", "b", "c", "d", "e"}
	require.Equal(t, [][]string{{"a", "b", "c", "d", "e"}}, Plan(streams, nil, 0))
	require.Equal(t, [][]string{{"a", "c", "e"}, {"b", "d"}}, Plan(streams, nil, 2))
	require.Len(t, Plan(streams, nil, 9), 5, "never more readers than streams")
	bySlot := func(s string) uint16 { return map[string]uint16{"a": 1, "b": 2, "c": 1, "d": 3, "e": 1}[s] }
	require.Equal(t, [][]string{{"a", "c", "e"}, {"b"}, {"d"}}, Plan(streams, bySlot, 1))
	require.Equal(t, [][]string{{"a", "e"}, {"c"}, {"b"}, {"d"}}, Plan(streams, bySlot, 4))
}

// readsEveryShardInOrder runs a consumer on rdb for each Readers value of
// want (the readers it must run) and checks that every event appended to
// keys' shard streams after it started arrives once, in order per topic.
func readsEveryShardInOrder(t *testing.T, rdb rueidis.Client, keys rkey.Space, want map[int]int) {
	app := event.NewAppender(rdb, keys, 10_000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// An entry appended before the consumer starts is not replayed.
	_, err := app.Append(ctx, rkey.ConversationTopic(1), []byte(`{"type":"message.created","seq":1,"data":{}}`))
	require.NoError(t, err)

	for readers, n := range want {
		s := &sink{}
		c := New(rdb, keys, s, Config{Readers: readers, Block: 100 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		require.Equal(t, n, c.Readers(), "readers for Readers %d", readers)
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = c.Run(cctx); close(done) }()
		require.Eventually(t, c.Ready, 5*time.Second, 10*time.Millisecond)

		// 20 conversations spread over the shards, 10 events each,
		// appended concurrently per conversation.
		var wg sync.WaitGroup
		for conv := id.ID(1); conv <= 20; conv++ {
			wg.Add(1)
			go func(conv id.ID) {
				defer wg.Done()
				for seq := int64(1); seq <= 10; seq++ {
					_, err := app.AppendEvent(ctx, rkey.ConversationTopic(conv), event.Envelope{
						Type: event.MessageCreated, ConversationID: conv, Seq: seq, At: time.Now(), Data: []byte(`{}`)})
					if err != nil {
						t.Error(err)
					}
				}
			}(conv)
		}
		// An entry that cannot be routed is skipped, not fatal.
		_, err := app.Append(ctx, "bogus:1", []byte(`{"type":"x"}`))
		require.NoError(t, err)
		wg.Wait()
		require.Eventually(t, func() bool { return len(s.events()) == 200 }, 5*time.Second, 10*time.Millisecond)
		last := map[string]int64{}
		for _, ev := range s.events() {
			require.Equal(t, last[ev.Topic]+1, ev.Seq, "topic %s", ev.Topic)
			last[ev.Topic] = ev.Seq
			require.WithinDuration(t, time.Now(), ev.Time, 10*time.Second)
		}
		ccancel()
		<-done
	}
}

// TestConsumerNoticesARedisThatStopsAnswering: a paused Redis (connections
// open, nothing answered) makes the reader not ready within its block time
// and readSlack, and ready again once Redis answers.
func TestConsumerNoticesARedisThatStopsAnswering(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	opt, err := rueidis.ParseURL(srv.URL)
	require.NoError(t, err)
	rdb, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	defer rdb.Close()
	c := New(rdb, rkey.New("t:", 2), &sink{}, Config{Block: 100 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, c.Ready, 5*time.Second, 10*time.Millisecond)
	srv.Pause()
	require.Eventually(t, func() bool { return !c.Ready() }, 100*time.Millisecond+readSlack+3*time.Second, 20*time.Millisecond)
	srv.Resume()
	require.Eventually(t, c.Ready, 10*time.Second, 20*time.Millisecond)
}
