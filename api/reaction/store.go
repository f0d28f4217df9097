package reaction

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
)

// Every SQL statement of reactions is in this file.

// lockNamespace is the first key of the advisory locks that serialize the
// adds of one message's reactions (two-int keys, like api/call's).
const lockNamespace = 0x72656163 // "reac"

// addResult is what add found and did.
type addResult struct {
	added bool
	// had: the user had this reaction already (nothing to do).
	had bool
	// known: some user had reacted with this emoji already.
	known bool
	// emojis is how many distinct emoji the message had; mine how many
	// reactions of the user's.
	emojis, mine int
}

// add inserts the reaction unless it exists or would go over caps. The
// caps are checked by the insert itself, under a transaction-scoped lock
// of the message taken by the statement before (so the insert's snapshot,
// taken after the lock is granted, sees every add committed before it):
// two concurrent adds can never both take the last place. Both statements
// go in one round trip.
func add(ctx context.Context, tx pgx.Tx, m, u id.ID, emoji string, at time.Time, caps Caps) (addResult, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashint8($2))`, lockNamespace, int64(m))
	b.Queue(`
WITH cur AS (
  SELECT count(DISTINCT emoji) AS emojis,
         count(*) FILTER (WHERE user_id = $2) AS mine,
         coalesce(bool_or(emoji = $3), false) AS known,
         coalesce(bool_or(user_id = $2 AND emoji = $3), false) AS had
  FROM reactions WHERE message_id = $1
), ins AS (
  INSERT INTO reactions (message_id, user_id, emoji, created_at)
  SELECT $1, $2, $3, $4 FROM cur
   WHERE NOT cur.had AND (cur.known OR cur.emojis < $5) AND cur.mine < $6
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM ins), had, known, emojis, mine FROM cur`,
		int64(m), int64(u), emoji, at, caps.PerMessage, caps.PerUser)
	br := tx.SendBatch(ctx, b)
	var r addResult
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&r.added, &r.had, &r.known, &r.emojis, &r.mine)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return addResult{}, fmt.Errorf("reaction: add: %w", err)
	}
	return r, nil
}

// remove deletes the reaction; true when there was one.
func remove(ctx context.Context, tx pgx.Tx, m, u id.ID, emoji string) (bool, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3`,
		int64(m), int64(u), emoji)
	if err != nil {
		return false, fmt.Errorf("reaction: remove: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// count is how many users reacted to m with emoji.
func count(ctx context.Context, tx pgx.Tx, m id.ID, emoji string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM reactions WHERE message_id = $1 AND emoji = $2`, int64(m), emoji).Scan(&n)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("reaction: count: %w", err)
	}
	return n, nil
}
