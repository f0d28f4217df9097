package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// trimBatch bounds one DELETE of TrimSessions.
const trimBatch = 5000

// TrimSessions deletes, in batches, the sessions that ended before `before`
// (revoked then, or past their refresh expiry) and whose last access token
// had expired by then too, with their refresh tokens (ON DELETE CASCADE),
// and returns how many sessions it deleted. A refresh token of a deleted
// session is simply unknown and refused like any other; no access token of
// one can still be valid. The worker schedules it.
func TrimSessions(ctx context.Context, db *pgxpool.Pool, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.Exec(ctx, `
DELETE FROM auth_sessions WHERE id IN (
  SELECT id FROM auth_sessions
   WHERE coalesce(revoked_at, expires_at) < $1 AND access_until < $1
   LIMIT $2)`, before, trimBatch)
		if err != nil {
			return total, fmt.Errorf("auth: trim sessions: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < trimBatch {
			return total, nil
		}
	}
}
