package dial_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
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
