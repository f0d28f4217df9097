package call

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call/calltest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"
)

// bundle is what a call test runs on: its own database and key prefix, a
// Service wired as the api wires it (River insert-only client included),
// and a clock the test can move.
type bundle struct {
	db    *pgxpool.Pool
	rdb   rueidis.Client
	keys  rkey.Space
	ids   *id.Generator
	guard *eventlog.Guard
	svc   *Service
	// clock is added to the real time: tests move it forward.
	clock atomic.Int64
}

func (b *bundle) now() time.Time { return time.Now().Add(time.Duration(b.clock.Load())) }

// setup returns a bundle whose calls ring for ringTimeout.
func setup(t *testing.T, ringTimeout time.Duration) *bundle {
	t.Helper()
	b := &bundle{db: pgtest.Pool(t)}
	b.rdb, b.keys = redistest.Client(t)
	var err error
	b.ids, err = id.NewGenerator(1)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.guard = eventlog.NewGuard(b.rdb, b.keys, 10_000, b.db)
	pub := eventlog.NewPublisher(b.guard, b.db, log, 5*time.Second, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go pub.Run(ctx)
	jobs, err := river.NewClient(riverpgxv5.New(b.db), &river.Config{Logger: log})
	require.NoError(t, err)
	b.svc = New(Deps{
		DB: b.db, IDs: b.ids, Outbox: eventlog.NewOutbox(b.ids, b.now), Publisher: pub,
		Effects: NewEffects(b.rdb, b.keys, event.NewAppender(b.rdb, b.keys, 10_000), b.db, b.now),
		Jobs:    jobs, RingTimeout: ringTimeout, Now: b.now, Log: log,
		// These tests make calls as fast as they can; the limits have
		// their own test over REST.
		Limiter: ratelimit.New(b.rdb, b.keys),
		Limits: Limits{PerCaller: ratelimit.Rule{Name: "calls", Max: 1 << 30, Window: time.Minute},
			PerPair: ratelimit.Rule{Name: "calls_pair", Max: 1 << 30, Window: time.Minute}},
	})
	return b
}

// user inserts a user and returns its id.
func (b *bundle) user(t *testing.T) id.ID { return calltest.User(t, b.db, b.ids) }

// dm inserts the DM of a and c, as the conversation package would.
func (b *bundle) dm(t *testing.T, a, c id.ID) id.ID { return calltest.DM(t, b.db, b.ids, a, c) }

// pair is a caller, a callee and their DM.
type pair struct{ caller, callee, conv id.ID }

func (b *bundle) pair(t *testing.T) pair {
	t.Helper()
	p := pair{caller: b.user(t), callee: b.user(t)}
	p.conv = b.dm(t, p.caller, p.callee)
	return p
}

// call starts an audio call in p's DM.
func (b *bundle) call(t *testing.T, p pair) Call {
	t.Helper()
	c, err := b.svc.Create(context.Background(), p.caller, NewCall{ConversationID: p.conv, Media: Audio})
	require.NoError(t, err)
	require.Equal(t, Calling, c.Status)
	return c
}

// requireCode fails unless err is a fault with code.
func requireCode(t *testing.T, err error, code fault.Code) *fault.Error {
	t.Helper()
	require.Error(t, err)
	fe, ok := fault.As(err)
	require.True(t, ok, "not a fault: %v", err)
	require.Equal(t, code, fe.Code, "%v", err)
	return fe
}

// logged is one call event of a DM's log.
type logged struct {
	Seq    int64
	Type   string
	CallID id.ID
	Status Status
}

// dmLog returns the call events of conv's log, in seq order.
func (b *bundle) dmLog(t *testing.T, conv id.ID) []logged {
	t.Helper()
	rows, err := b.db.Query(context.Background(),
		`SELECT seq, type, envelope::text FROM conversation_events WHERE conversation_id = $1 ORDER BY seq`, int64(conv))
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (logged, error) {
		var l logged
		var env string
		if err := r.Scan(&l.Seq, &l.Type, &env); err != nil {
			return l, err
		}
		var e struct {
			Seq  int64
			Data JSON
		}
		err := json.Unmarshal([]byte(env), &e)
		l.CallID, l.Status = e.Data.ID, e.Data.Status
		require.Equal(t, l.Seq, e.Seq, "the stored envelope carries its seq")
		return l, err
	})
	require.NoError(t, err)
	return out
}

// topicEvents returns the envelopes the streams hold for topic, in order.
func (b *bundle) topicEvents(t *testing.T, topic string) []event.Envelope {
	return calltest.Events(t, b.rdb, b.keys, topic)
}

// types lists the envelopes' types.
func types(envs []event.Envelope) []string { return calltest.Types(envs) }

// participants returns the members of the call's participant set.
func (b *bundle) participants(t *testing.T, call id.ID) []string {
	t.Helper()
	m, err := b.rdb.Do(context.Background(), b.rdb.B().Smembers().Key(b.keys.CallParticipants(call)).Build()).AsStrSlice()
	require.NoError(t, err)
	return m
}
