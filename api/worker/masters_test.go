package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call/calltest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/api/worker"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// TestMasterRestartSweepsTheEventsItLost kills a Redis that holds
// published events and starts it again empty, as a master that dies
// before its replica (or its append-only file) has its newest writes: the
// events are marked published, so the relay leaves them alone, and only
// the master watch's sweep puts them back on the stream, in order, once.
func TestMasterRestartSweepsTheEventsItLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t)
	opt, err := rueidis.ParseURL(srv.URL)
	require.NoError(t, err)
	rdb, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(rdb.Close)
	keys := rkey.New(redistest.Prefix(t), 4)
	db := pgtest.Pool(t)
	ids, err := id.NewGenerator(5)
	require.NoError(t, err)
	conv := calltest.DM(t, db, ids, calltest.User(t, db, ids), calltest.User(t, db, ids))
	log := quiet()

	guard := eventlog.NewGuard(rdb, keys, 10_000, db)
	pub := eventlog.NewPublisher(guard, db, log, 5*time.Second, nil)
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(pctx) }()
	t.Cleanup(func() { stop(); <-done })
	outbox := eventlog.NewOutbox(ids, time.Now)
	send := func(n int) {
		for i := 0; i < n; i++ {
			tx, err := db.Begin(ctx)
			require.NoError(t, err)
			evs, err := outbox.Record(ctx, tx, eventlog.Spec{Conversation: conv, Type: event.MessageCreated,
				Data: map[string]int{"i": i}, Activity: true})
			require.NoError(t, err)
			require.NoError(t, tx.Commit(ctx))
			pub.Publish(ctx, evs...)
		}
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM event_outbox WHERE conversation_id = $1`, int64(conv)).Scan(&n))
			return n == 0
		}, 10*time.Second, 20*time.Millisecond, "every event marked published")
	}
	seqs := func() []int64 {
		var out []int64
		for _, e := range calltest.Events(t, rdb, keys, rkey.ConversationTopic(conv)) {
			out = append(out, e.Seq)
		}
		return out
	}

	send(5)
	require.Equal(t, []int64{1, 2, 3, 4, 5}, seqs())
	relay := eventlog.NewRelay(guard, db, log, func() time.Time { return time.Now().Add(time.Minute) },
		eventlog.RelayConfig{Grace: time.Second, Interval: time.Hour, Batch: 100}, nil)
	watch := worker.NewMasterWatch(rdb, relay.Sweep, time.Now, time.Second, 10*time.Second, log)
	watch.Check(ctx) // learns the master
	watch.Check(ctx)
	require.Equal(t, []int64{1, 2, 3, 4, 5}, seqs(), "an unchanged master is not swept")

	srv.Stop()
	srv.Start()
	require.Eventually(t, func() bool {
		return rdb.Do(ctx, rdb.B().Ping().Build()).Error() == nil
	}, 10*time.Second, 20*time.Millisecond)
	require.Empty(t, seqs(), "the restarted master lost the stream")
	_, err = relay.RunOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, seqs(), "the relay does not take events marked published")

	// The first poll after the restart may find the watch's own
	// connection still broken (no node answers: nothing is decided); a
	// later poll sees the new master and sweeps, as the worker's loop does.
	require.Eventually(t, func() bool {
		watch.Check(ctx)
		return len(seqs()) > 0
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []int64{1, 2, 3, 4, 5}, seqs(), "the sweep appended them again, in order")
	watch.Check(ctx)
	require.Equal(t, []int64{1, 2, 3, 4, 5}, seqs(), "once")
	send(1)
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6}, seqs(), "publishing goes on from the swept seq")
}
