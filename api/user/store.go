package user

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Columns are the users columns Scan reads, in its order. Stores that join
// users write `SELECT ` + user.Columns (or the same list with a table alias
// via ColumnsOf) so a change to the resource is made once.
const Columns = "id, email, username, display_name, created_at, coalesce(avatar_id, 0) AS avatar_id, " +
	"status_text, status_emoji, status_expires_at, time_zone"

// ColumnsOf is Columns qualified with a table alias, for joins.
func ColumnsOf(alias string) string {
	a := alias + "."
	return a + "id, " + a + "email, " + a + "username, " + a + "display_name, " + a + "created_at, coalesce(" + a +
		"avatar_id, 0), " + a + "status_text, " + a + "status_emoji, " + a + "status_expires_at, " + a + "time_zone"
}

// Dest are the scan destinations of Columns into u, in order, for a row
// that selects other columns around them.
func Dest(u *User) []any {
	return []any{&u.ID, &u.Email, &u.Username, &u.DisplayName, &u.CreatedAt, &u.AvatarID, &u.StatusText,
		&u.StatusEmoji, &u.StatusExpiresAt, &u.TimeZone}
}

// Scan reads Columns from row, followed by any extra destinations the
// caller selected after them.
func Scan(row pgx.Row, extra ...any) (User, error) {
	var u User
	err := row.Scan(append(Dest(&u), extra...)...)
	return u, err
}

// byID reads user u.
func byID(ctx context.Context, db *pgxpool.Pool, u id.ID) (User, bool, error) {
	usr, err := Scan(db.QueryRow(ctx, `SELECT `+Columns+` FROM users WHERE id = $1`, int64(u)))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, fmt.Errorf("user: read %s: %w", u, err)
	}
	return usr, true, nil
}

// search pages, by username after the cursor, the users whose username or
// display name (case-insensitively) starts with prefix. Both prefixes are
// indexed (users_username_prefix, users_display_name_prefix).
func search(ctx context.Context, db *pgxpool.Pool, prefix, after string, limit int) ([]User, error) {
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(prefix)) + "%"
	rows, err := db.Query(ctx, `SELECT `+Columns+` FROM users
WHERE (username LIKE $1 OR lower(display_name) LIKE $1) AND username > $2
ORDER BY username LIMIT $3`, like, after, limit)
	if err != nil {
		return nil, fmt.Errorf("user: search: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return Scan(r) })
	if err != nil {
		return nil, fmt.Errorf("user: search: %w", err)
	}
	return out, nil
}
