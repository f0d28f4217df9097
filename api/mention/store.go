package mention

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of mentions and notification settings is in this
// file.

// members returns the members of c whose usernames are names, by username.
func members(ctx context.Context, q querier, c id.ID, names []string) ([]User, error) {
	rows, err := q.Query(ctx, `SELECT u.id, u.username FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.conversation_id = $1 AND u.username = ANY($2) ORDER BY u.username`, int64(c), names)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Username)
		return u, err
	})
}

// recipient is a member a notification may go to, by their level.
type recipient struct {
	user  id.ID
	level string
}

// recipients reads the members of c, but author, that a notification may
// reach at now (level not none, not muted, not blocking the author): every
// member when all is set, else those of users.
func recipients(ctx context.Context, db *pgxpool.Pool, c, author id.ID, all bool, users []int64, now time.Time) ([]recipient, error) {
	rows, err := db.Query(ctx, `SELECT m.user_id, m.notify_level FROM memberships m
WHERE m.conversation_id = $1 AND m.user_id <> $2 AND m.notify_level <> 'none'
  AND (m.muted_until IS NULL OR m.muted_until <= $3) AND ($4 OR m.user_id = ANY($5))
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = m.user_id AND b.blocked_id = $2)`,
		int64(c), int64(author), now, all, users)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (recipient, error) {
		var x recipient
		err := r.Scan(&x.user, &x.level)
		return x, err
	})
}

// saveSettings sets u's notification settings in c; false when u is not a
// member.
func saveSettings(ctx context.Context, db *pgxpool.Pool, c, u id.ID, level string, mutedUntil *time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE memberships SET notify_level = $3, muted_until = $4
WHERE conversation_id = $1 AND user_id = $2`, int64(c), int64(u), level, mutedUntil)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}
