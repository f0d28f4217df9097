package saved

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every SQL statement of saved messages is in this file.

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const columns = `id, user_id, message_id, conversation_id, saved_at`

func scan(row pgx.Row) (Saved, error) {
	var s Saved
	err := row.Scan(&s.ID, &s.UserID, &s.MessageID, &s.ConversationID, &s.SavedAt)
	return s, err
}

// insert adds sv unless its owner saved the message already; then it
// returns the existing save and false. (The existing row is read by a
// statement of its own, which sees a concurrent save that won the insert.)
func insert(ctx context.Context, q querier, sv Saved) (Saved, bool, error) {
	got, err := scan(q.QueryRow(ctx, `INSERT INTO saved_messages (`+columns+`) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, message_id) DO NOTHING RETURNING `+columns,
		int64(sv.ID), int64(sv.UserID), int64(sv.MessageID), int64(sv.ConversationID), sv.SavedAt))
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Saved{}, false, fmt.Errorf("saved: insert: %w", err)
	}
	got, err = scan(q.QueryRow(ctx, `SELECT `+columns+` FROM saved_messages WHERE user_id = $1 AND message_id = $2`,
		int64(sv.UserID), int64(sv.MessageID)))
	if err != nil {
		return Saved{}, false, fmt.Errorf("saved: read existing: %w", err)
	}
	return got, false, nil
}

// remove deletes u's save of message m; false when there was none.
func remove(ctx context.Context, q querier, u, m id.ID) (bool, error) {
	tag, err := q.Exec(ctx, `DELETE FROM saved_messages WHERE user_id = $1 AND message_id = $2`, int64(u), int64(m))
	if err != nil {
		return false, fmt.Errorf("saved: remove: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// list returns up to limit of u's saves older than before (0: from the
// newest), newest first, of messages u may still read: not deleted, in a
// channel or in a conversation u is a member of.
func list(ctx context.Context, q querier, u, before id.ID, limit int) ([]Saved, error) {
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT s.id, s.user_id, s.message_id, s.conversation_id, s.saved_at
  FROM saved_messages s
  JOIN conversations c ON c.id = s.conversation_id
  JOIN messages m ON m.id = s.message_id
 WHERE s.user_id = $1 AND s.id < $2 AND m.deleted_at IS NULL
   AND (c.kind = 'channel' OR EXISTS (
        SELECT 1 FROM memberships ms WHERE ms.conversation_id = s.conversation_id AND ms.user_id = $1))
 ORDER BY s.id DESC LIMIT $3`, int64(u), int64(before), limit)
	if err != nil {
		return nil, fmt.Errorf("saved: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Saved, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("saved: list: %w", err)
	}
	return out, nil
}
