package schema_test

import (
	"context"
	"testing"

	"github.com/chatterly/chatterly/api/schema"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestOutboxMigrationKeepsUnpublishedEvents migrates a database that ran
// 0001 and 0002 and holds events both marked published and not: 0003 moves
// the unmarked ones, and only those, into the outbox, where the relay finds
// them.
func TestOutboxMigrationKeepsUnpublishedEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := emptyDB(t)

	ms, err := schema.All()
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	for _, m := range ms[:2] {
		require.Less(t, m.Version, 3)
		_, err := conn.Exec(ctx, m.SQL)
		require.NoError(t, err, m.Name)
		_, err = conn.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
		require.NoError(t, err)
	}
	_, err = conn.Exec(ctx, `
INSERT INTO conversation_events (id, conversation_id, seq, type, envelope, published_at) VALUES
  (chatterly_id_floor(now()) + 1, 7, 1, 'message.created', '{}', now()),
  (chatterly_id_floor(now()) + 2, 7, 2, 'message.created', '{}', NULL),
  (chatterly_id_floor(now()) + 3, 8, 1, 'member.joined', '{}', NULL)`)
	require.NoError(t, err)

	applied, err := schema.Migrate(ctx, conn)
	require.NoError(t, err)
	require.Contains(t, applied, "0003_event_outbox.sql")
	rows, err := conn.Query(ctx, `
SELECT o.conversation_id, o.seq, o.event_id = e.id FROM event_outbox o
  JOIN conversation_events e USING (conversation_id, seq) ORDER BY 1, 2`)
	require.NoError(t, err)
	type entry struct {
		Conv, Seq int64
		SameID    bool
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
	require.NoError(t, err)
	require.Equal(t, []entry{{7, 2, true}, {8, 1, true}}, got)
}
