package dial_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/tcpproxy"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// A migrated database passes the check; one that has forgotten a migration
// is refused, the migration named.
func TestCheckSchemaRefusesPendingMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	require.NoError(t, dial.CheckSchema(ctx, url))

	db, err := dial.Postgres(ctx, url, 2, false, time.Second, slog.New(slog.DiscardHandler), "postgres")
	require.NoError(t, err)
	defer db.Close()
	var name string
	require.NoError(t, db.QueryRow(ctx,
		`DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations) RETURNING name`).Scan(&name))
	err = dial.CheckSchema(ctx, url)
	require.ErrorContains(t, err, "pending migrations")
	require.ErrorContains(t, err, name)
}

// Postgres pings, so an unreachable server fails at start.
func TestPostgresFailsAtStartWhenUnreachable(t *testing.T) {
	t.Parallel()
	_, err := dial.Postgres(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", 2, true, time.Second, slog.New(slog.DiscardHandler), "postgres")
	require.Error(t, err)
}

// One URL gives one client for both uses; a bad streams URL is an error
// naming REDIS_STREAMS_URL.
func TestRedisSharesTheClientUnlessConfiguredApart(t *testing.T) {
	t.Parallel()
	url := redistest.URL(t)
	rdb, streams, err := dial.Redis(config.Common{RedisURL: url, RedisStreamsURL: url}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer rdb.Close()
	require.Same(t, rdb, streams)

	_, _, err = dial.Redis(config.Common{RedisURL: url, RedisStreamsURL: "redis://127.0.0.1:1/0"}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "REDIS_STREAMS_URL")
}

// A configured node is kept; two processes that draw from one database get
// different nodes, so their ids never collide.
func TestIDsDrawsDistinctNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := dial.Postgres(ctx, pgtest.URL(t), 2, false, time.Second, slog.New(slog.DiscardHandler), "postgres")
	require.NoError(t, err)
	defer db.Close()
	node := func(g *id.Generator) int64 { return int64(g.Next()) >> 12 & id.MaxNode }

	fixed, err := dial.IDs(ctx, db, 7)
	require.NoError(t, err)
	require.EqualValues(t, 7, node(fixed))

	a, err := dial.IDs(ctx, db, -1)
	require.NoError(t, err)
	b, err := dial.IDs(ctx, db, -1)
	require.NoError(t, err)
	require.NotEqual(t, node(a), node(b))

	_, err = dial.IDs(ctx, db, id.MaxNode+1)
	require.Error(t, err)
}

// Each client dial opens logs its dependency's outage once when it starts
// and once when it ends, however many calls fail in between (the api and
// the worker both open their clients here). A Postgres that is taken away
// (refusing) and one that stops answering (paused) are both outages.
func TestOutagesAreLoggedOnceWhenTheyStartAndEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := &proctest.Buffer{}
	logger := slog.New(slog.NewJSONHandler(log, nil))
	px, dbURL := tcpproxy.Through(t, pgtest.URL(t))
	db, err := dial.Postgres(ctx, dbURL, 2, false, 300*time.Millisecond, logger, "postgres")
	require.NoError(t, err)
	defer db.Close()
	rs := redistest.StartServer(t)
	rdb, _, err := dial.Redis(config.Common{RedisURL: rs.URL, RedisStreamsURL: rs.URL, DependencyTimeout: 300 * time.Millisecond}, logger)
	require.NoError(t, err)
	defer rdb.Close()

	px.Down()
	rs.Pause()
	for range 5 {
		_, err := db.Exec(ctx, "SELECT 1")
		require.Error(t, err)
		require.Error(t, rdb.Do(ctx, rdb.B().Get().Key("k").Build()).Error())
	}
	px.Up()
	px.Pause()
	_, err = db.Exec(ctx, "SELECT 1")
	require.Error(t, err, "a paused Postgres times out")
	px.Resume()
	rs.Resume()
	require.Eventually(t, func() bool {
		_, err := db.Exec(ctx, "SELECT 1")
		return err == nil && rueidis.IsRedisNil(rdb.Do(ctx, rdb.B().Get().Key("k").Build()).Error())
	}, 10*time.Second, 20*time.Millisecond)

	var started, ended []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		switch m["msg"] {
		case "dependency unavailable":
			started = append(started, m)
		case "dependency available again":
			ended = append(ended, m)
		}
	}
	require.Len(t, started, 2, "one line per dependency:\n%s", log)
	require.Len(t, ended, 2, "%s", log)
	deps := map[any]bool{}
	for _, m := range ended {
		deps[m["dependency"]] = true
		require.Greater(t, m["outage_seconds"], 0.0)
		require.GreaterOrEqual(t, m["failed_calls"], 5.0)
	}
	require.Equal(t, map[any]bool{"postgres": true, "redis": true}, deps)
}
