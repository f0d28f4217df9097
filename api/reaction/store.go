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

// add inserts the reaction unless it exists; true when it was inserted.
func add(ctx context.Context, tx pgx.Tx, m, u id.ID, emoji string, at time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO reactions (message_id, user_id, emoji, created_at)
VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, int64(m), int64(u), emoji, at)
	if err != nil {
		return false, fmt.Errorf("reaction: add: %w", err)
	}
	return tag.RowsAffected() == 1, nil
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
