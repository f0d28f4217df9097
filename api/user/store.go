package user

import "github.com/jackc/pgx/v5"

// Columns are the users columns Scan reads, in its order. Stores that join
// users write `SELECT ` + user.Columns (or the same list with a table alias
// via ColumnsOf) so a change to the resource is made once.
const Columns = "id, email, username, display_name, created_at"

// ColumnsOf is Columns qualified with a table alias, for joins.
func ColumnsOf(alias string) string {
	a := alias + "."
	return a + "id, " + a + "email, " + a + "username, " + a + "display_name, " + a + "created_at"
}

// Scan reads Columns from row, followed by any extra destinations the
// caller selected after them.
func Scan(row pgx.Row, extra ...any) (User, error) {
	var u User
	dest := append([]any{&u.ID, &u.Email, &u.Username, &u.DisplayName, &u.CreatedAt}, extra...)
	err := row.Scan(dest...)
	return u, err
}
