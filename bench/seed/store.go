package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// store holds the seeder's SQL: COPY into the api's own tables.
type store struct{ db *pgxpool.Pool }

// insert writes users, their sessions, conversations and memberships in
// one transaction.
func (s store) insert(ctx context.Context, w *World, accessUntil time.Time) error {
	now := time.Now()
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		users := make([][]any, len(w.Users))
		sessions := make([][]any, len(w.Users))
		for i, u := range w.Users {
			// A password hash no KDF produces: a seeded user cannot log in.
			users[i] = []any{int64(u.ID), fmt.Sprintf("bench%d@bench.invalid", i), fmt.Sprintf("bench%d", i),
				fmt.Sprintf("Bench User %d", i), "!seeded"}
			sessions[i] = []any{int64(u.SID), int64(u.ID), accessUntil.Add(24 * time.Hour), accessUntil}
		}
		if err := copyRows(ctx, tx, "users", []string{"id", "email", "username", "display_name", "password_hash"}, users); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "auth_sessions", []string{"id", "user_id", "expires_at", "access_until"}, sessions); err != nil {
			return err
		}
		var convs, members [][]any
		for _, c := range w.Conversations {
			owner := w.Users[c.Members[0]].ID
			convs = append(convs, []any{int64(c.ID), "group", fmt.Sprintf("bench %s %d", c.Shape, c.ID), int64(owner), now})
			for j, m := range c.Members {
				role := "member"
				if j == 0 {
					role = "owner"
				}
				members = append(members, []any{int64(c.ID), int64(w.Users[m].ID), role})
			}
		}
		if err := copyRows(ctx, tx, "conversations", []string{"id", "kind", "name", "created_by", "last_activity_at"}, convs); err != nil {
			return err
		}
		return copyRows(ctx, tx, "memberships", []string{"conversation_id", "user_id", "role"}, members)
	})
}

func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seed: copy %s: %w", table, err)
	}
	return nil
}
