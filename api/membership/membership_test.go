package membership

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

type bundle struct {
	db   *pgxpool.Pool
	sets *Sets
	conv id.ID
	ids  *id.Generator
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{db: pgtest.Pool(t)}
	rdb, keys := redistest.Client(t)
	b.sets = New(rdb, keys, b.db)
	var err error
	b.ids, err = id.NewGenerator(3)
	require.NoError(t, err)
	owner := b.user(t)
	b.conv = b.ids.Next()
	_, err = b.db.Exec(context.Background(),
		`INSERT INTO conversations (id, kind, name, created_by) VALUES ($1, 'group', 'g', $2)`, int64(b.conv), int64(owner))
	require.NoError(t, err)
	return b
}

func (b *bundle) user(t *testing.T) id.ID {
	u := b.ids.Next()
	_, err := b.db.Exec(context.Background(), `INSERT INTO users (id, email, username, display_name, password_hash)
VALUES ($1, $2, $2, $2, 'x')`, int64(u), "u"+u.String())
	require.NoError(t, err)
	return u
}

func (b *bundle) join(t *testing.T, u id.ID) {
	_, err := b.db.Exec(context.Background(),
		`INSERT INTO memberships (conversation_id, user_id, role) VALUES ($1, $2, 'member')`, int64(b.conv), int64(u))
	require.NoError(t, err)
}

func (b *bundle) check(t *testing.T, u id.ID) bool {
	ok, err := b.sets.Check(context.Background(), b.conv, u)
	require.NoError(t, err)
	return ok
}

func (b *bundle) members(t *testing.T) []string {
	m, err := b.sets.rdb.Do(context.Background(), b.sets.rdb.B().Smembers().Key(b.sets.keys.Members(b.conv)).Build()).AsStrSlice()
	require.NoError(t, err)
	return m
}

func TestMissingSetIsRebuiltFromPostgres(t *testing.T) {
	t.Parallel()
	b := setup(t)
	alice, bob := b.user(t), b.user(t)
	b.join(t, alice)
	require.True(t, b.check(t, alice))
	require.False(t, b.check(t, bob))
	require.ElementsMatch(t, []string{Sentinel, alice.String()}, b.members(t))

	// An empty conversation still has a set: the sentinel says "known".
	_, err := b.db.Exec(context.Background(), `DELETE FROM memberships WHERE conversation_id = $1`, int64(b.conv))
	require.NoError(t, err)
	require.NoError(t, b.sets.Rebuild(context.Background(), b.conv))
	require.Equal(t, []string{Sentinel}, b.members(t))
}

func TestChangesFollowAtOnceThroughTheClientCache(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	alice := b.user(t)
	require.False(t, b.check(t, alice)) // cached locally now
	b.join(t, alice)
	require.NoError(t, b.sets.Add(ctx, b.conv, alice))
	require.True(t, b.check(t, alice), "Redis invalidated the cached answer")
	_, err := b.db.Exec(ctx, `DELETE FROM memberships WHERE user_id = $1`, int64(alice))
	require.NoError(t, err)
	require.NoError(t, b.sets.Remove(ctx, b.conv, alice))
	require.False(t, b.check(t, alice))

	// A change to a missing set rebuilds it from Postgres, which already
	// holds the change.
	require.NoError(t, b.sets.rdb.Do(ctx, b.sets.rdb.B().Del().Key(b.sets.keys.Members(b.conv)).Build()).Error())
	bob := b.user(t)
	b.join(t, bob)
	require.NoError(t, b.sets.Add(ctx, b.conv, bob))
	require.ElementsMatch(t, []string{Sentinel, bob.String()}, b.members(t))
}

func TestRebuildWaitsForMembershipChangeInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	alice := b.user(t)
	// A membership change holds the conversation row (its event's seq)
	// from its first statement to its commit.
	tx, err := b.db.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck
	_, err = tx.Exec(ctx, `UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1`, int64(b.conv))
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO memberships (conversation_id, user_id, role) VALUES ($1, $2, 'member')`, int64(b.conv), int64(alice))
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() { done <- b.sets.Rebuild(ctx, b.conv) }()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, b.db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR SHARE%'`).Scan(&waiting))
		return waiting == 1
	}, 5*time.Second, 10*time.Millisecond, "the rebuild waits for the change's commit")
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done)
	require.ElementsMatch(t, []string{Sentinel, alice.String()}, b.members(t), "the rebuild read after the commit")
}

func TestRelayHookRebuildsBeforeMemberEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	alice, mallory := b.user(t), b.user(t)
	b.join(t, alice)
	require.NoError(t, b.sets.Ensure(ctx, b.conv))
	// The process died after removing mallory in Postgres but before SREM:
	// the set still lists someone Postgres does not.
	require.NoError(t, b.sets.rdb.Do(ctx, b.sets.rdb.B().Sadd().Key(b.sets.keys.Members(b.conv)).Member(mallory.String()).Build()).Error())
	hook := b.sets.RelayHook()
	require.NoError(t, hook(ctx, eventlog.Event{ConversationID: b.conv, Type: event.MessageCreated}))
	require.True(t, b.check(t, mallory), "other events leave the set alone")
	require.NoError(t, hook(ctx, eventlog.Event{ConversationID: b.conv, Type: event.MemberLeft}))
	require.False(t, b.check(t, mallory))
	require.True(t, b.check(t, alice))
}
