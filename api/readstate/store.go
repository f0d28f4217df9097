package readstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of read markers is in this file.

// messageIn reports whether message m belongs to conversation c.
func messageIn(ctx context.Context, db *pgxpool.Pool, m, c id.ID) (bool, error) {
	var one int
	err := db.QueryRow(ctx, `SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2`, int64(m), int64(c)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("readstate: find message: %w", err)
	}
	return true, nil
}

// advance moves u's marker in c to m when m is newer, and returns the
// marker and whether it moved.
func advance(ctx context.Context, db *pgxpool.Pool, c, u, m id.ID) (id.ID, bool, error) {
	var marker int64
	var moved bool
	err := db.QueryRow(ctx, `
WITH moved AS (
  UPDATE memberships SET last_read_message_id = $3
   WHERE conversation_id = $1 AND user_id = $2 AND last_read_message_id < $3
  RETURNING last_read_message_id)
SELECT coalesce((SELECT last_read_message_id FROM moved),
                (SELECT last_read_message_id FROM memberships WHERE conversation_id = $1 AND user_id = $2)),
       EXISTS (SELECT 1 FROM moved)`, int64(c), int64(u), int64(m)).Scan(&marker, &moved)
	if err != nil {
		return 0, false, fmt.Errorf("readstate: advance marker: %w", err)
	}
	return id.ID(marker), moved, nil
}

func jsonOf(v any) ([]byte, error) { return json.Marshal(v) }
