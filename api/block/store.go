package block

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of blocks is in this file, but for the refusals'
// own statements (api/conversation's addMembers reads the table inside its
// member check).

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Exists reports whether blocker blocks blocked.
func Exists(ctx context.Context, q Querier, blocker, blocked id.ID) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)`,
		int64(blocker), int64(blocked)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("block: exists: %w", err)
	}
	return ok, nil
}

// errUnknownUser is a target that is not a user.
var errUnknownUser = errors.New("block: no such user")

// insert records the block unless it exists, and returns the target user
// and when the block was made (now, or when the existing one was); created
// is false for an existing block.
func insert(ctx context.Context, q *pgxpool.Pool, blocker, blocked id.ID, at time.Time) (user.User, time.Time, bool, error) {
	var u user.User
	var made time.Time
	var created bool
	err := q.QueryRow(ctx, `
WITH target AS (SELECT `+user.Columns+` FROM users WHERE id = $2),
ins AS (
  INSERT INTO blocks (blocker_id, blocked_id, created_at)
  SELECT $1, id, $3 FROM target
  ON CONFLICT DO NOTHING RETURNING created_at)
SELECT t.*,
       coalesce((SELECT created_at FROM ins), (SELECT created_at FROM blocks WHERE blocker_id = $1 AND blocked_id = $2), $3),
       EXISTS (SELECT 1 FROM ins)
  FROM target t`, int64(blocker), int64(blocked), at).Scan(append(user.Dest(&u), &made, &created)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return user.User{}, time.Time{}, false, errUnknownUser
	}
	if err != nil {
		return user.User{}, time.Time{}, false, fmt.Errorf("block: insert: %w", err)
	}
	return u, made, created, nil
}

// remove deletes blocker's block of blocked; false when there was none.
func remove(ctx context.Context, q *pgxpool.Pool, blocker, blocked id.ID) (bool, error) {
	tag, err := q.Exec(ctx, `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, int64(blocker), int64(blocked))
	if err != nil {
		return false, fmt.Errorf("block: remove: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// list returns up to limit of the people blocker blocks with an id above
// after, by id, with their users.
func list(ctx context.Context, q *pgxpool.Pool, blocker, after id.ID, limit int) ([]JSON, error) {
	rows, err := q.Query(ctx, `SELECT b.created_at, `+user.ColumnsOf("u")+`
  FROM blocks b JOIN users u ON u.id = b.blocked_id
 WHERE b.blocker_id = $1 AND b.blocked_id > $2 ORDER BY b.blocked_id LIMIT $3`, int64(blocker), int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("block: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JSON, error) {
		var at time.Time
		var u user.User
		err := r.Scan(append([]any{&at}, user.Dest(&u)...)...)
		return render(u, at), err
	})
	if err != nil {
		return nil, fmt.Errorf("block: list: %w", err)
	}
	return out, nil
}
