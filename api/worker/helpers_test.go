package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/call/calltest"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/worker/workertest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"
)

// env is one test's world: a database, a key prefix, the api's side of
// calls (a call.Service wired as the api wires it) and the variables a
// worker is started with.
type env struct {
	dbURL string
	db    *pgxpool.Pool
	rdb   rueidis.Client
	keys  rkey.Space
	ids   *id.Generator
	calls *call.Service
	vars  map[string]string
}

func newEnv(t *testing.T, ringTimeout time.Duration) *env {
	t.Helper()
	e := &env{dbURL: pgtest.URL(t)}
	// The api's side and the worker reach the database as processes do:
	// through PgBouncer with TEST_PGBOUNCER=1.
	e.db = pgtest.ProcessPool(t, e.dbURL)
	procURL, bounce := pgtest.ProcessURL(t, e.dbURL)
	var err error
	e.rdb, e.keys = redistest.Client(t)
	e.ids, err = id.NewGenerator(2)
	require.NoError(t, err)
	log := quiet()
	guard := eventlog.NewGuard(e.rdb, e.keys, 10_000, e.db)
	pub := eventlog.NewPublisher(guard, e.db, log, 5*time.Second, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go pub.Run(ctx)
	jobs, err := river.NewClient(riverpgxv5.New(e.db), &river.Config{Logger: log})
	require.NoError(t, err)
	e.calls = call.New(call.Deps{
		DB: e.db, IDs: e.ids, Outbox: eventlog.NewOutbox(e.ids, time.Now), Publisher: pub,
		Effects: call.NewEffects(e.rdb, e.keys, event.NewAppender(e.rdb, e.keys, 10_000), e.db, time.Now),
		Jobs:    jobs, RingTimeout: ringTimeout, Log: log,
		// The test places calls as the api does, through its rate limits.
		Limiter: ratelimit.New(e.rdb, e.keys), Limits: call.DefaultLimits(),
	})
	e.vars = map[string]string{
		"DATABASE_URL":       procURL,
		"DATABASE_PGBOUNCER": strconv.FormatBool(bounce),
		"REDIS_URL":          redistest.URL(t),
		"REDIS_KEY_PREFIX":   e.keys.Prefix,
		"STREAM_SHARDS":      "4",
		"NODE_ID":            "3",
		"WORKER_ADDR":        "127.0.0.1:0",
		"CALL_RING_TIMEOUT":  ringTimeout.String(),
		"LOG_LEVEL":          "error",
	}
	return e
}

func quiet() *slog.Logger {
	if os.Getenv("TEST_LOG") != "" {
		return logging.New(os.Stderr, "debug", "test")
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs a worker in process on e with extra variables, on the clock
// now, until the test ends.
func (e *env) start(t *testing.T, extra map[string]string, now func() time.Time) *workertest.Worker {
	t.Helper()
	vars := map[string]string{}
	for k, v := range e.vars {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	return workertest.StartWith(t, vars, now)
}

// user inserts a user.
func (e *env) user(t *testing.T) id.ID { return calltest.User(t, e.db, e.ids) }

// dm inserts the DM of a and b, as the conversation package would.
func (e *env) dm(t *testing.T, a, b id.ID) id.ID { return calltest.DM(t, e.db, e.ids, a, b) }

// newCall starts a call between two new users.
func (e *env) newCall(t *testing.T) call.Call {
	t.Helper()
	a, b := e.user(t), e.user(t)
	c, err := e.calls.Create(context.Background(), a, call.NewCall{ConversationID: e.dm(t, a, b), Media: call.Audio})
	require.NoError(t, err)
	return c
}

// status reads a call's row.
func (e *env) get(t *testing.T, c call.Call) call.Call {
	t.Helper()
	got, err := e.calls.Get(context.Background(), c.CallerID, c.ID)
	require.NoError(t, err)
	return got
}

// userEvents lists the types of the events on u's topic.
func (e *env) userEvents(t *testing.T, u id.ID) []string {
	return calltest.Types(calltest.Events(t, e.rdb, e.keys, rkey.UserTopic(u)))
}

// jobState is the state of the call's missed-call job.
func (e *env) jobState(t *testing.T, c call.Call) string {
	t.Helper()
	var s string
	require.NoError(t, e.db.QueryRow(context.Background(),
		`SELECT state::text FROM river_job WHERE kind = $1 AND args->>'call_id' = $2`, call.MissedKind, c.ID.String()).Scan(&s))
	return s
}

// httpGet fetches a worker endpoint.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}
