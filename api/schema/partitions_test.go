package schema_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/api/schema"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// partition names the monthly partition of parent holding month t.
func partition(parent string, t time.Time) string {
	return fmt.Sprintf("%s_%04d_%02d", parent, t.UTC().Year(), int(t.UTC().Month()))
}

// freshDB migrates a new, empty database in the test itself (not a clone
// of the shared template, which may have been migrated in an earlier
// month) and returns a connection to it.
func freshDB(t *testing.T) *pgx.Conn {
	t.Helper()
	conn := emptyDB(t)
	_, err := schema.Migrate(context.Background(), conn)
	require.NoError(t, err)
	return conn
}

// emptyDB makes a new database, dropped after the test, and returns a
// connection to it.
func emptyDB(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.AdminURL(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	name := "chatterly_s_" + logging.NewRequestID()
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	cfg, err := pgx.ParseConfig(pgtest.AdminURL(t))
	require.NoError(t, err)
	cfg.Database = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Migrating makes the partitions of the current month and the next two
// (and a default partition as the safety net), for both partitioned tables;
// migrating again changes nothing.
func TestMigrationMakesPartitionsAhead(t *testing.T) {
	t.Parallel()
	conn := freshDB(t)
	ctx := context.Background()
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for _, parent := range []string{"messages", "conversation_events"} {
		rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = $1::regclass`, parent)
		require.NoError(t, err)
		parts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Contains(t, parts, parent+"_default")
		for m := range 3 {
			require.Contains(t, parts, partition(parent, first.AddDate(0, m, 0)), parent)
		}
	}
	again, err := schema.Migrate(ctx, conn)
	require.NoError(t, err)
	require.Empty(t, again)
	pending, err := schema.Pending(ctx, conn)
	require.NoError(t, err)
	require.Empty(t, pending)
}

// relations lists every table an EXPLAIN (FORMAT JSON) plan reads.
func relations(t *testing.T, plan []byte) []string {
	t.Helper()
	var doc []map[string]any
	require.NoError(t, json.Unmarshal(plan, &doc))
	var out []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if r, ok := n["Relation Name"].(string); ok {
			out = append(out, r)
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			walk(k.(map[string]any))
		}
	}
	walk(doc[0]["Plan"].(map[string]any))
	return out
}

// A lookup of a message (or an event) by id reads one partition: the id's
// time bits name the month. Both for a literal, pruned when planning, and
// for a prepared statement's generic plan, pruned when it starts.
func TestLookupByIDPrunesToOnePartition(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var made int
	// Whatever month the template was migrated in, this month has one.
	require.NoError(t, pool.QueryRow(ctx, "SELECT chatterly_ensure_partitions('messages', $1, 1) + chatterly_ensure_partitions('conversation_events', $1, 1)", now).Scan(&made))
	msgID := id.Floor(now) + 12345
	for _, parent := range []string{"messages", "conversation_events"} {
		var plan []byte
		require.NoError(t, pool.QueryRow(ctx, fmt.Sprintf("EXPLAIN (FORMAT JSON) SELECT * FROM %s WHERE id = %d", parent, msgID)).Scan(&plan))
		require.Equal(t, []string{partition(parent, now)}, relations(t, plan), parent)

		conn, err := pool.Acquire(ctx)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan")
		require.NoError(t, err)
		_, err = conn.Exec(ctx, fmt.Sprintf("PREPARE byid_%s(bigint) AS SELECT * FROM %s WHERE id = $1", parent, parent))
		require.NoError(t, err)
		require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf("EXPLAIN (FORMAT JSON) EXECUTE byid_%s(%d)", parent, msgID)).Scan(&plan))
		require.Equal(t, []string{partition(parent, now)}, relations(t, plan), "generic plan of %s", parent)
		conn.Release()
	}
}

// A row whose month has no partition yet lands in the default partition
// instead of failing the write; making that month's partition moves it.
func TestDefaultPartitionRowIsMovedWhenItsMonthIsMade(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	future := time.Now().UTC().AddDate(3, 0, 0) // no partition this far ahead
	future = time.Date(future.Year(), future.Month(), 15, 12, 0, 0, 0, time.UTC)
	msgID := id.Floor(future) + 1

	seed(t, pool)
	_, err := pool.Exec(ctx, "INSERT INTO messages (id, conversation_id, user_id, body) VALUES ($1, 10, 1, 'from the future')", msgID)
	require.NoError(t, err)
	require.Equal(t, "messages_default", tableOf(t, pool, msgID))

	var made int
	require.NoError(t, pool.QueryRow(ctx, "SELECT chatterly_ensure_partitions('messages', $1, 1)", future).Scan(&made))
	require.Equal(t, 1, made)
	require.Equal(t, partition("messages", future), tableOf(t, pool, msgID))
	var left int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM messages_default").Scan(&left))
	require.Zero(t, left)
	var body string
	require.NoError(t, pool.QueryRow(ctx, "SELECT body FROM messages WHERE id = $1", msgID).Scan(&body))
	require.Equal(t, "from the future", body)

	require.NoError(t, pool.QueryRow(ctx, "SELECT chatterly_ensure_partitions('messages', $1, 1)", future).Scan(&made))
	require.Zero(t, made, "making an existing partition is a no-op")
}

// chatterly_id_floor in SQL and id.Floor in Go agree: the partition bounds
// and the ids are computed the same way.
func TestIDFloorMatchesGo(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	for _, ts := range []time.Time{
		id.Epoch, id.Epoch.Add(-time.Hour),
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 2, 28, 23, 59, 59, 999e6, time.UTC),
	} {
		var got int64
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT chatterly_id_floor($1)", ts).Scan(&got))
		require.Equal(t, int64(id.Floor(ts)), got, ts)
	}
}

func seed(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
INSERT INTO users (id, email, username, display_name, password_hash) VALUES (1, 'a@example.com', 'a', 'A', 'x');
INSERT INTO conversations (id, kind, name, created_by) VALUES (10, 'channel', 'general', 1);`)
	require.NoError(t, err)
}

func tableOf(t *testing.T, pool *pgxpool.Pool, msgID id.ID) string {
	t.Helper()
	var name string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT tableoid::regclass::text FROM messages WHERE id = $1", msgID).Scan(&name))
	return name
}
