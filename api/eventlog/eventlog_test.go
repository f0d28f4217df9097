package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

type bundle struct {
	db     *pgxpool.Pool
	rdb    rueidis.Client
	keys   rkey.Space
	ids    *id.Generator
	outbox *Outbox
	guard  *Guard
	log    *slog.Logger
	conv   id.ID
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{db: pgtest.Pool(t), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.rdb, b.keys = redistest.Client(t)
	var err error
	b.ids, err = id.NewGenerator(1)
	require.NoError(t, err)
	b.outbox = NewOutbox(b.ids, time.Now)
	b.guard = NewGuard(b.rdb, b.keys, 10_000, b.db)
	b.conv = b.newConversation(t)
	return b
}

func (b *bundle) newConversation(t *testing.T) id.ID {
	t.Helper()
	ctx := context.Background()
	u, c := b.ids.Next(), b.ids.Next()
	_, err := b.db.Exec(ctx, `INSERT INTO users (id, email, username, display_name, password_hash)
VALUES ($1, $2, $2, $2, 'x') ON CONFLICT DO NOTHING`, int64(u), "u"+u.String())
	require.NoError(t, err)
	_, err = b.db.Exec(ctx, `INSERT INTO conversations (id, kind, name, created_by) VALUES ($1, 'group', 'g', $2)`, int64(c), int64(u))
	require.NoError(t, err)
	return c
}

// relay returns a Relay whose clock runs a minute ahead, so every event
// committed so far is past its grace period.
func (b *bundle) relay(hooks ...Hook) *Relay {
	return NewRelay(b.guard, b.db, b.log, func() time.Time { return time.Now().Add(time.Minute) },
		RelayConfig{Grace: time.Second, Interval: time.Hour, Batch: 100}, nil, hooks...)
}

// publisher returns a running Publisher on sink, stopped with the test.
func (b *bundle) publisher(t *testing.T, sink Sink) *Publisher {
	ctx, cancel := context.WithCancel(context.Background())
	p := NewPublisher(sink, b.db, b.log, 5*time.Second, nil)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// record commits n events of typ to c, one transaction each.
func (b *bundle) record(t *testing.T, c id.ID, n int) []Event {
	t.Helper()
	var out []Event
	for i := 0; i < n; i++ {
		tx, err := b.db.Begin(context.Background())
		require.NoError(t, err)
		evs, err := b.outbox.Record(context.Background(), tx, Spec{Conversation: c, Type: event.MessageCreated,
			Data: map[string]int{"i": i}, Activity: true})
		require.NoError(t, err)
		require.NoError(t, tx.Commit(context.Background()))
		out = append(out, evs...)
	}
	return out
}

// streamSeqs lists, in stream order, the seqs the stream holds for c.
func (b *bundle) streamSeqs(t *testing.T, c id.ID) []int64 {
	t.Helper()
	topic := rkey.ConversationTopic(c)
	entries, err := b.rdb.Do(context.Background(),
		b.rdb.B().Xrange().Key(b.keys.Stream(b.keys.ShardOf(topic))).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	var seqs []int64
	for _, e := range entries {
		ent, err := event.DecodeEntry(e.FieldValues)
		require.NoError(t, err)
		if ent.Topic != topic {
			continue
		}
		var env event.Envelope
		require.NoError(t, json.Unmarshal(ent.Envelope, &env))
		require.Equal(t, c, env.ConversationID)
		// Published or relayed, an envelope is compact JSON on the stream:
		// a client may match its bytes (the bench's sockets do).
		var compact bytes.Buffer
		require.NoError(t, json.Compact(&compact, ent.Envelope))
		require.Equal(t, compact.String(), string(ent.Envelope), "seq %d is not compact on the stream", env.Seq)
		seqs = append(seqs, env.Seq)
	}
	return seqs
}

func upTo(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func TestSeqIsGapFreeUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const writers, each = 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := pgx.BeginFunc(ctx, b.db, func(tx pgx.Tx) error {
					_, err := b.outbox.Record(ctx, tx, Spec{Conversation: b.conv, Type: event.MessageCreated, Data: w})
					if err == nil && i == each-1 && w%5 == 0 {
						return errRollback // a rolled-back write gives its seq back
					}
					return err
				})
				if !errors.Is(err, errRollback) {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rows, err := b.db.Query(ctx, `SELECT seq FROM conversation_events WHERE conversation_id = $1 ORDER BY seq`, int64(b.conv))
	require.NoError(t, err)
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	committed := writers*each - writers/5
	require.Equal(t, upTo(committed), seqs)
	var last int64
	require.NoError(t, b.db.QueryRow(ctx, `SELECT last_seq FROM conversations WHERE id = $1`, int64(b.conv)).Scan(&last))
	require.Equal(t, int64(committed), last)
}

var errRollback = errors.New("roll back")

func TestGuardAppendsInSeqOrderWhatArrivesOutOfOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	evs := b.record(t, b.conv, 4)

	out, err := b.guard.Put(ctx, evs[1])
	require.NoError(t, err)
	require.Equal(t, Parked, out.Status, "seq 2 before seq 1 waits")
	out, err = b.guard.Put(ctx, evs[2])
	require.NoError(t, err)
	require.Equal(t, Parked, out.Status)
	require.Empty(t, b.streamSeqs(t, b.conv))

	out, err = b.guard.Put(ctx, evs[0])
	require.NoError(t, err)
	require.Equal(t, Appended, out.Status)
	require.Equal(t, []int64{1, 2, 3}, out.Appended, "the late seq 1 releases the parked 2 and 3")

	out, err = b.guard.Put(ctx, evs[1])
	require.NoError(t, err)
	require.Equal(t, Duplicate, out.Status)
	out, err = b.guard.Put(ctx, evs[3])
	require.NoError(t, err)
	require.Equal(t, []int64{4}, out.Appended)
	require.Equal(t, upTo(4), b.streamSeqs(t, b.conv))
}

func TestRacingPublishersKeepSeqOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	evs := b.record(t, b.conv, 60)
	pub := b.publisher(t, b.guard)
	// Publish in an order where later seqs often come first.
	var wg sync.WaitGroup
	for i := len(evs) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(e Event) { defer wg.Done(); pub.Publish(ctx, e) }(evs[i])
	}
	wg.Wait()
	require.Equal(t, upTo(60), b.streamSeqs(t, b.conv))
}

// failingSink is Redis failing between commit and XADD: every Put fails.
type failingSink struct{}

func (failingSink) Put(context.Context, Event) (Outcome, error) {
	return Outcome{}, errors.New("redis: connection refused")
}

func TestRelayRepublishesWhatFailedAfterCommit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	good, bad := b.publisher(t, b.guard), b.publisher(t, failingSink{})

	evs := b.record(t, b.conv, 9)
	for i, e := range evs {
		if i >= 3 && i < 6 { // seqs 4..6 committed, never appended
			bad.Publish(ctx, e)
		} else {
			good.Publish(ctx, e)
		}
	}
	require.Equal(t, upTo(3), b.streamSeqs(t, b.conv), "7..9 wait parked behind the lost 4")

	relay := b.relay()
	n, err := relay.RunOnce(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 3)
	require.Equal(t, upTo(9), b.streamSeqs(t, b.conv))
	require.Eventually(t, func() bool { return unmarked(t, b) == 0 }, 5*time.Second, 20*time.Millisecond)

	// A second pass finds nothing; a repeated append would be a no-op anyway.
	n, err = relay.RunOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, upTo(9), b.streamSeqs(t, b.conv))
}

func unmarked(t *testing.T, b *bundle) int {
	var n int
	require.NoError(t, b.db.QueryRow(context.Background(),
		`SELECT count(*) FROM event_outbox WHERE conversation_id = $1`, int64(b.conv)).Scan(&n))
	return n
}

func TestGuardReseedsFromPostgresWhenRedisLostItsKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pub := b.publisher(t, b.guard)
	evs := b.record(t, b.conv, 6)
	pub.Publish(ctx, evs[:3]...)
	require.Eventually(t, func() bool { return unmarked(t, b) == 3 }, 5*time.Second, 20*time.Millisecond)

	// Redis restarts empty: the published seq and the stream are gone.
	flush := func() {
		for _, k := range []string{b.keys.PublishedSeq(b.conv), b.keys.PendingSeq(b.conv), b.keys.Stream(b.keys.ShardOf(evs[0].Topic()))} {
			require.NoError(t, b.rdb.Do(ctx, b.rdb.B().Del().Key(k).Build()).Error())
		}
	}
	flush()
	// Seq 5 arrives before 4: seeded at 3 (the highest seq marked with all
	// its predecessors), it parks instead of jumping the queue.
	pub.Publish(ctx, evs[4])
	require.Empty(t, b.streamSeqs(t, b.conv))
	pub.Publish(ctx, evs[3])
	require.Equal(t, []int64{4, 5}, b.streamSeqs(t, b.conv))

	// Now lose the keys again while marks for 4 and 5 may still be in
	// flight: a seed that understates costs duplicates, and the relay fills
	// whatever gap is left, so 6 is never stranded.
	flush()
	pub.Publish(ctx, evs[5])
	relay := b.relay()
	require.Eventually(t, func() bool {
		_, err := relay.RunOnce(ctx)
		require.NoError(t, err)
		return unmarked(t, b) == 0
	}, 5*time.Second, 20*time.Millisecond)
	got := b.streamSeqs(t, b.conv)
	require.Contains(t, got, int64(6))
	require.Equal(t, int64(6), got[len(got)-1])
	for i := 1; i < len(got); i++ {
		require.Greater(t, got[i], got[i-1], "stream order is seq order: %v", got)
	}
}

func TestRelayHookRunsBeforeRepublishing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.record(t, b.conv, 2)
	var seen []int64
	fail := true
	hook := func(_ context.Context, e Event) error {
		if fail {
			return errors.New("not yet")
		}
		seen = append(seen, e.Seq)
		return nil
	}
	relay := b.relay(hook)
	_, err := relay.RunOnce(ctx)
	require.Error(t, err)
	require.Empty(t, b.streamSeqs(t, b.conv), "a failing hook holds the event back")
	fail = false
	_, err = relay.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2}, seen)
	require.Equal(t, upTo(2), b.streamSeqs(t, b.conv))
}

func TestReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.record(t, b.conv, 7)

	p, err := Replay(ctx, b.db, b.conv, 0, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2, 3}, seqsOf(t, p))
	require.NotNil(t, p.NextCursor)
	require.Equal(t, "3", *p.NextCursor)

	p, err = Replay(ctx, b.db, b.conv, 3, 0)
	require.NoError(t, err)
	require.Equal(t, []int64{4, 5, 6, 7}, seqsOf(t, p))
	require.Nil(t, p.NextCursor)

	p, err = Replay(ctx, b.db, b.conv, 7, 10)
	require.NoError(t, err)
	require.Empty(t, p.Items)
	require.NotNil(t, p.Items, "an empty page renders as [], not null")

	p, err = Replay(ctx, b.db, b.conv, 0, MaxReplay*10)
	require.NoError(t, err, "a limit above the maximum is clamped")
	require.Len(t, p.Items, 7)

	var env event.Envelope
	require.NoError(t, json.Unmarshal(p.Items[0], &env))
	require.Equal(t, event.MessageCreated, env.Type)
	require.Equal(t, b.conv, env.ConversationID)
	require.JSONEq(t, `{"i":0}`, string(env.Data))
}

func seqsOf(t *testing.T, p Page) []int64 {
	var out []int64
	for _, it := range p.Items {
		var s struct{ Seq int64 }
		require.NoError(t, json.Unmarshal(it, &s))
		out = append(out, s.Seq)
	}
	return out
}

func TestTrimmedLogAsksForResync(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.record(t, b.conv, 3)
	other := b.newConversation(t)
	// Trimming with a clock 40 days ahead removes everything made so far.
	n, err := Trim(ctx, b.db, time.Now().Add(40*24*time.Hour), DefaultRetention)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	b.record(t, b.conv, 2) // seqs 4 and 5 are kept

	_, err = Replay(ctx, b.db, b.conv, 0, 10)
	require.ErrorIs(t, err, ErrResync)
	_, err = Replay(ctx, b.db, b.conv, 2, 10)
	require.ErrorIs(t, err, ErrResync)
	p, err := Replay(ctx, b.db, b.conv, 3, 10)
	require.NoError(t, err, "after_seq at the trim line loses nothing")
	require.Equal(t, []int64{4, 5}, seqsOf(t, p))

	// A conversation whose whole log was trimmed (or never had one).
	p, err = Replay(ctx, b.db, other, 0, 10)
	require.NoError(t, err)
	require.Empty(t, p.Items)

	// Retention keeps what is younger than it.
	n, err = Trim(ctx, b.db, time.Now(), DefaultRetention)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestRelayAdvancesPastTrimmedGap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	evs := b.record(t, b.conv, 3)
	_, err := Trim(ctx, b.db, time.Now().Add(40*24*time.Hour), DefaultRetention)
	require.NoError(t, err)
	later := b.record(t, b.conv, 1) // seq 4: 1..3 were never published and are gone
	require.Len(t, evs, 3)
	relay := b.relay()
	_, err = relay.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, []int64{later[0].Seq}, b.streamSeqs(t, b.conv))
	require.Equal(t, "4", strconv.FormatInt(later[0].Seq, 10))
}
