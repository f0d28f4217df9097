package profile

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of profiles is in this file.

// change is the columns an update sets (nil: unchanged). avatar 0 clears
// it.
type change struct {
	displayName *string
	avatar      *int64
	status      *StatusInput
	timeZone    *string
}

// update applies c to user u and returns the row as it now is.
func update(ctx context.Context, db *pgxpool.Pool, u id.ID, c change, at time.Time) (user.User, error) {
	var text, emoji *string
	var expires *time.Time
	if c.status != nil {
		text, emoji, expires = &c.status.Text, &c.status.Emoji, c.status.ExpiresAt
	}
	got, err := user.Scan(db.QueryRow(ctx, `UPDATE users SET
  display_name = coalesce($2, display_name),
  avatar_id = CASE WHEN $3::bigint IS NULL THEN avatar_id ELSE nullif($3::bigint, 0) END,
  status_text = coalesce($4, status_text),
  status_emoji = coalesce($5, status_emoji),
  status_expires_at = CASE WHEN $6 THEN $7 ELSE status_expires_at END,
  time_zone = coalesce($8, time_zone),
  updated_at = $9
WHERE id = $1 RETURNING `+user.Columns, int64(u), c.displayName, c.avatar, text, emoji, c.status != nil, expires,
		c.timeZone, at))
	if err != nil {
		return user.User{}, fmt.Errorf("profile: update %s: %w", u, err)
	}
	return got, nil
}

// audience is everyone who sees user u: u, and the members of every
// conversation u is a member of.
func audience(ctx context.Context, db *pgxpool.Pool, u id.ID) ([]id.ID, error) {
	rows, err := db.Query(ctx, `SELECT $1::bigint UNION
SELECT o.user_id FROM memberships m JOIN memberships o ON o.conversation_id = m.conversation_id WHERE m.user_id = $1`, int64(u))
	if err != nil {
		return nil, fmt.Errorf("profile: audience of %s: %w", u, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (id.ID, error) {
		var v int64
		err := r.Scan(&v)
		return id.ID(v), err
	})
	if err != nil {
		return nil, fmt.Errorf("profile: audience of %s: %w", u, err)
	}
	return out, nil
}
