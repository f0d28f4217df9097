package pin

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every SQL statement of pins is in this file.

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const columns = `id, conversation_id, message_id, pinned_by, pinned_at`

func scan(row pgx.Row) (Pin, error) {
	var p Pin
	err := row.Scan(&p.ID, &p.ConversationID, &p.MessageID, &p.PinnedBy, &p.PinnedAt)
	return p, err
}

// insert adds p unless its message is pinned already; then it returns the
// existing pin and false. The insert decides, so two members pinning one
// message at once make one pin and one event. (The existing pin is read by
// a statement of its own: one that lost the race to a concurrent pin
// started before that pin committed and would not see it.)
func insert(ctx context.Context, tx pgx.Tx, p Pin) (Pin, bool, error) {
	got, err := scan(tx.QueryRow(ctx, `INSERT INTO pins (`+columns+`) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (message_id) DO NOTHING RETURNING `+columns,
		int64(p.ID), int64(p.ConversationID), int64(p.MessageID), int64(p.PinnedBy), p.PinnedAt))
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Pin{}, false, fmt.Errorf("pin: insert: %w", err)
	}
	if got, err = scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM pins WHERE message_id = $1`, int64(p.MessageID))); err != nil {
		return Pin{}, false, fmt.Errorf("pin: read existing: %w", err)
	}
	return got, false, nil
}

// remove deletes the pin of message m and returns it; false when there was
// none.
func remove(ctx context.Context, tx pgx.Tx, m id.ID) (Pin, bool, error) {
	p, err := scan(tx.QueryRow(ctx, `DELETE FROM pins WHERE message_id = $1 RETURNING `+columns, int64(m)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Pin{}, false, nil
	}
	if err != nil {
		return Pin{}, false, fmt.Errorf("pin: remove: %w", err)
	}
	return p, true, nil
}

// list returns up to limit pins of conversation c older than before (0:
// from the newest), newest first, leaving out those of deleted messages.
func list(ctx context.Context, q querier, c, before id.ID, limit int) ([]Pin, error) {
	if before == 0 {
		before = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT p.id, p.conversation_id, p.message_id, p.pinned_by, p.pinned_at
  FROM pins p JOIN messages m ON m.id = p.message_id
 WHERE p.conversation_id = $1 AND p.id < $2 AND m.deleted_at IS NULL
 ORDER BY p.id DESC LIMIT $3`, int64(c), int64(before), limit)
	if err != nil {
		return nil, fmt.Errorf("pin: list: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Pin, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("pin: list: %w", err)
	}
	return ps, nil
}
