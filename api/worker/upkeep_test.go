package worker_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call/calltest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/worker"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// clock is the real time plus an offset a test jumps forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) jump(months int) time.Duration {
	d := monthsAhead(time.Now(), months)
	c.offset.Store(int64(d))
	return d
}

// monthsAhead is the duration from t to the same instant months later.
func monthsAhead(t time.Time, months int) time.Duration { return t.AddDate(0, months, 0).Sub(t) }

// month is the first instant of the month n months after t's, in UTC.
func month(t time.Time, n int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
}

func (e *env) exists(t *testing.T, table string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, e.db.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok))
	return ok
}

// completed counts the finished jobs of kind.
func (e *env) completed(t *testing.T, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, kind).Scan(&n))
	return n
}

// group inserts a user and a group conversation of theirs.
func (e *env) group(t *testing.T) (user, conv id.ID) {
	t.Helper()
	user, conv = e.user(t), e.ids.Next()
	_, err := e.db.Exec(context.Background(), `INSERT INTO conversations (id, kind, name, created_by) VALUES ($1, 'group', 'g', $2)`,
		int64(conv), int64(user))
	require.NoError(t, err)
	return user, conv
}

func TestPartitionUpkeepCreatesTheMonthsAheadWhenTheClockJumps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, time.Minute)
	var clk clock
	r := e.start(t, map[string]string{"PARTITION_MONTHS_AHEAD": "3"}, clk.now)
	require.Eventually(t, func() bool { return e.completed(t, "partition_upkeep") >= 1 }, 15*time.Second, 20*time.Millisecond,
		"the upkeep runs when the worker starts")

	start := time.Now()
	const jump = 7
	name := func(table string, n int) string { return table + "_" + month(start, n).Format("2006_01") }
	for n := jump; n <= jump+3; n++ {
		require.False(t, e.exists(t, name("messages", n)), "no partition yet %d months ahead", n)
	}
	// A message written into a month that has no partition yet lands in
	// the default partition, the safety net.
	user, conv := e.group(t)
	msg := id.Floor(month(start, jump+1).Add(36 * time.Hour))
	_, err := e.db.Exec(ctx, `INSERT INTO messages (id, conversation_id, user_id, body) VALUES ($1, $2, $3, 'from the future')`,
		int64(msg), int64(conv), int64(user))
	require.NoError(t, err)
	partitionOf := func() string {
		var p string
		require.NoError(t, e.db.QueryRow(ctx, `SELECT tableoid::regclass::text FROM messages WHERE id = $1`, int64(msg)).Scan(&p))
		return p
	}
	require.Equal(t, "messages_default", partitionOf())

	clk.jump(jump)
	_, err = r.Jobs().Insert(ctx, worker.PartitionsArgs{}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.completed(t, "partition_upkeep") >= 2 }, 15*time.Second, 20*time.Millisecond)
	for _, table := range []string{"messages", "conversation_events"} {
		for n := jump; n <= jump+3; n++ {
			require.True(t, e.exists(t, name(table, n)), "%s exists after the jump", name(table, n))
		}
		require.False(t, e.exists(t, name(table, jump+4)), "only PARTITION_MONTHS_AHEAD months ahead")
	}
	require.Equal(t, name("messages", jump+1), partitionOf(), "the stray row moved into its month's new partition")
}

func TestRetentionDropsOldPartitionsAndTrimsTheRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, time.Minute)
	var clk clock
	r := e.start(t, map[string]string{"EVENT_RETENTION": "720h"}, clk.now)
	require.Eventually(t, func() bool { return e.completed(t, "event_retention") >= 1 }, 15*time.Second, 20*time.Millisecond)

	_, conv := e.group(t)
	outbox := eventlog.NewOutbox(e.ids, time.Now)
	for i := 0; i < 3; i++ {
		require.NoError(t, pgx.BeginFunc(ctx, e.db, func(tx pgx.Tx) error {
			_, err := outbox.Record(ctx, tx, eventlog.Spec{Conversation: conv, Type: event.MessageCreated, Data: i})
			return err
		}))
	}
	p, err := eventlog.Replay(ctx, e.db, conv, 0, 10)
	require.NoError(t, err)
	require.Len(t, p.Items, 3)

	// Three months later the 30-day horizon is two months ahead of the
	// events: their month's partition lies wholly before it.
	start := time.Now()
	clk.jump(3)
	horizon := clk.now().Add(-720 * time.Hour)
	thisMonth := "conversation_events_" + month(start, 0).Format("2006_01")
	require.True(t, e.exists(t, thisMonth))
	// One event newer than the horizon must survive: written as the
	// outbox would, with the next seq, at a time after the horizon.
	late := id.Floor(horizon.Add(time.Hour))
	_, err = e.db.Exec(ctx, `
WITH c AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $2 RETURNING last_seq)
INSERT INTO conversation_events (id, conversation_id, seq, type, envelope)
SELECT $1, $2, c.last_seq, 'message.created', jsonb_build_object('type', 'message.created', 'seq', c.last_seq) FROM c`,
		int64(late), int64(conv))
	require.NoError(t, err)

	_, err = r.Jobs().Insert(ctx, worker.RetentionArgs{}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.completed(t, "event_retention") >= 2 }, 15*time.Second, 20*time.Millisecond)

	require.False(t, e.exists(t, thisMonth), "a partition wholly before the horizon is dropped")
	require.True(t, e.exists(t, "conversation_events_default"), "the default partition is never dropped")
	var older, kept int
	require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE id < $1), count(*) FROM conversation_events`,
		int64(id.Floor(horizon))).Scan(&older, &kept))
	require.Zero(t, older)
	require.Equal(t, 1, kept)

	_, err = eventlog.Replay(ctx, e.db, conv, 0, 10)
	require.ErrorIs(t, err, eventlog.ErrResync, "replay from before the horizon must resync")
	p, err = eventlog.Replay(ctx, e.db, conv, 3, 10)
	require.NoError(t, err)
	require.Len(t, p.Items, 1, "replay after the horizon still works")
}

func TestTheWorkerRelaysWhatWasCommittedButNeverPublished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, time.Minute)
	e.start(t, nil, time.Now)
	_, conv := e.group(t)
	outbox := eventlog.NewOutbox(e.ids, time.Now)
	for i := 1; i <= 3; i++ {
		require.NoError(t, pgx.BeginFunc(ctx, e.db, func(tx pgx.Tx) error {
			_, err := outbox.Record(ctx, tx, eventlog.Spec{Conversation: conv, Type: event.MessageCreated, Data: i})
			return err
		}))
	}
	topic := rkey.ConversationTopic(conv)
	require.Eventually(t, func() bool {
		var seqs []int64
		for _, env := range calltest.Events(t, e.rdb, e.keys, topic) {
			seqs = append(seqs, env.Seq)
		}
		return len(seqs) == 3 && seqs[0] == 1 && seqs[2] == 3
	}, 10*time.Second, 20*time.Millisecond, "the relay publishes the unpublished events in seq order")
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FROM event_outbox`).Scan(&n))
		return n == 0
	}, 10*time.Second, 20*time.Millisecond, "and marks them")
}

func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Minute)
	r := e.start(t, nil, time.Now)
	code, body := httpGet(t, "http://"+r.Addr+"/healthz")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"status":"ok"}`, string(body))
	code, body = httpGet(t, "http://"+r.Addr+"/readyz")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"ready":true,"checks":{"postgres":"ok","redis":"ok"}}`, string(body))
	code, body = httpGet(t, "http://"+r.Addr+"/metrics")
	require.Equal(t, 200, code)
	require.True(t, strings.Contains(string(body), "chatterly_worker_events_relayed_total"), "the relay's metrics are served")
	code, _ = httpGet(t, "http://"+r.Addr+"/nope")
	require.Equal(t, 404, code)
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := worker.LoadConfig(config.FromMap(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8092", cfg.Addr)
	require.Equal(t, 30*time.Second, cfg.RingTimeout)
	_, err = worker.LoadConfig(config.FromMap(map[string]string{"CALL_TIMER_POLL": "5s", "CALL_TIMER_AHEAD": "1s"}))
	require.Error(t, err, "a look-ahead shorter than the poll would miss jobs")
}
