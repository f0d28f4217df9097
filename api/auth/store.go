package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// All of the auth package's SQL. Times come from the caller's clock, never
// from now() in SQL, so tests control them.

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// store runs queries on a pool; inTx runs a function in one transaction.
type store struct{ q querier }

func (s store) inTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx store) error) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(store{q: tx}) })
}

// errNotFound is a missing user or refresh token.
var errNotFound = errors.New("auth: not found")

// Unique indexes of users, and the request field each protects.
var uniqueField = map[string]string{
	"users_email_key":    "email",
	"users_username_key": "username",
}

func (s store) insertUser(ctx context.Context, u user.User, passwordHash string) error {
	_, err := s.q.Exec(ctx, `INSERT INTO users (id, email, username, display_name, password_hash, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)`, u.ID, u.Email, u.Username, u.DisplayName, passwordHash, u.CreatedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		if f, ok := uniqueField[pe.ConstraintName]; ok {
			return &fault.Error{Code: fault.AlreadyExists, Field: f, Message: "that " + f + " is already taken"}
		}
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// taken names the first of email and username another user already has,
// or "" when both are free. Registration asks before it spends a hash; the
// unique indexes still decide a race.
func (s store) taken(ctx context.Context, email, username string) (string, error) {
	var field string
	err := s.q.QueryRow(ctx, `SELECT CASE WHEN lower(email) = lower($1) THEN 'email' ELSE 'username' END
FROM users WHERE lower(email) = lower($1) OR username = $2 LIMIT 1`, email, username).Scan(&field)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("check taken: %w", err)
	}
	return field, nil
}

// userByLogin finds a user by email (case-insensitive) or username, with
// the password hash.
func (s store) userByLogin(ctx context.Context, login string) (user.User, string, error) {
	where := "username = $1"
	if loginKind(login) {
		where = "lower(email) = lower($1)"
	}
	var hash string
	u, err := user.Scan(s.q.QueryRow(ctx, "SELECT "+user.Columns+", password_hash FROM users WHERE "+where, login), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return user.User{}, "", errNotFound
	}
	if err != nil {
		return user.User{}, "", fmt.Errorf("user by login: %w", err)
	}
	return u, hash, nil
}

func (s store) userByID(ctx context.Context, uid id.ID) (user.User, error) {
	u, err := user.Scan(s.q.QueryRow(ctx, "SELECT "+user.Columns+" FROM users WHERE id = $1", uid))
	if errors.Is(err, pgx.ErrNoRows) {
		return user.User{}, errNotFound
	}
	if err != nil {
		return user.User{}, fmt.Errorf("user by id: %w", err)
	}
	return u, nil
}

func (s store) passwordHash(ctx context.Context, uid id.ID) (string, error) {
	var h string
	err := s.q.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = $1", uid).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNotFound
	}
	if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	return h, nil
}

func (s store) setPasswordHash(ctx context.Context, uid id.ID, hash string, now time.Time) error {
	if _, err := s.q.Exec(ctx, "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1", uid, hash, now); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// session is a row of auth_sessions as the auth flow needs it.
type session struct {
	ID          id.ID
	UserID      id.ID
	ExpiresAt   time.Time // when its refresh token stops working
	AccessUntil time.Time // when its newest access token expires
}

func (s store) insertSession(ctx context.Context, ss session, refreshHash []byte, now time.Time) error {
	if _, err := s.q.Exec(ctx, `INSERT INTO auth_sessions (id, user_id, created_at, last_used_at, expires_at, access_until)
VALUES ($1, $2, $3, $3, $4, $5)`, ss.ID, ss.UserID, now, ss.ExpiresAt, ss.AccessUntil); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return s.insertRefresh(ctx, ss.ID, refreshHash, now)
}

func (s store) insertRefresh(ctx context.Context, sid id.ID, hash []byte, now time.Time) error {
	if _, err := s.q.Exec(ctx, "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)", hash, sid, now); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// presented is a refresh token as found, with its session locked.
type presented struct {
	session
	Rotated   bool      // already exchanged once: presenting it again is reuse
	RotatedAt time.Time // when, if Rotated
	Revoked   bool      // its session has ended
}

// lockRefresh finds the refresh token with hash and locks its session row
// (and the token's), so a concurrent refresh or logout of the same session
// waits for this transaction and then sees its outcome.
func (s store) lockRefresh(ctx context.Context, hash []byte) (presented, error) {
	var p presented
	var rotatedAt *time.Time
	err := s.q.QueryRow(ctx, `SELECT s.id, s.user_id, s.expires_at, s.access_until, rt.rotated_at, s.revoked_at IS NOT NULL
FROM refresh_tokens rt JOIN auth_sessions s ON s.id = rt.session_id
WHERE rt.hash = $1 FOR UPDATE OF s, rt`, hash).
		Scan(&p.ID, &p.UserID, &p.ExpiresAt, &p.AccessUntil, &rotatedAt, &p.Revoked)
	if rotatedAt != nil {
		p.Rotated, p.RotatedAt = true, *rotatedAt
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return presented{}, errNotFound
	}
	if err != nil {
		return presented{}, fmt.Errorf("lock refresh token: %w", err)
	}
	return p, nil
}

// rotate retires the refresh token old, adds next, and moves the session's
// expiry and access_until forward.
func (s store) rotate(ctx context.Context, ss session, old, next []byte, now time.Time) error {
	if _, err := s.q.Exec(ctx, "UPDATE refresh_tokens SET rotated_at = $2 WHERE hash = $1", old, now); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if err := s.insertRefresh(ctx, ss.ID, next, now); err != nil {
		return err
	}
	return s.extendSession(ctx, ss, now)
}

// extendSession moves the session's expiry and access_until forward (never
// back: a grace answer may sign a token that expires before the last one).
func (s store) extendSession(ctx context.Context, ss session, now time.Time) error {
	if _, err := s.q.Exec(ctx, `UPDATE auth_sessions SET last_used_at = $2, expires_at = greatest(expires_at, $3), access_until = greatest(access_until, $4)
WHERE id = $1`, ss.ID, now, ss.ExpiresAt, ss.AccessUntil); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// Reasons a session ended, kept in auth_sessions.revoked_reason.
const (
	reasonLogout         = "logout"
	reasonLogoutAll      = "logout_all"
	reasonPasswordChange = "password_change"
	reasonRefreshReused  = "refresh_reused"
)

// revokeSession ends session sid of user uid. It is idempotent: a session
// already ended keeps its first time and reason and is returned again, so a
// retried logout repeats the denylist step that may have failed the first
// time. A session that is not the user's is errNotFound.
func (s store) revokeSession(ctx context.Context, uid, sid id.ID, reason string, now time.Time) (session, error) {
	ss := session{UserID: uid}
	err := s.q.QueryRow(ctx, `UPDATE auth_sessions SET revoked_at = coalesce(revoked_at, $3), revoked_reason = coalesce(revoked_reason, $4)
WHERE id = $2 AND user_id = $1 RETURNING id, expires_at, access_until`, uid, sid, now, reason).
		Scan(&ss.ID, &ss.ExpiresAt, &ss.AccessUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return session{}, errNotFound
	}
	if err != nil {
		return session{}, fmt.Errorf("revoke session: %w", err)
	}
	return ss, nil
}

// revokeSessions ends every live session of user uid except keep (0 keeps
// none) and returns them.
func (s store) revokeSessions(ctx context.Context, uid, keep id.ID, reason string, now time.Time) ([]session, error) {
	rows, err := s.q.Query(ctx, `UPDATE auth_sessions SET revoked_at = $3, revoked_reason = $4
WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2 RETURNING id, expires_at, access_until`, uid, keep, now, reason)
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (session, error) {
		ss := session{UserID: uid}
		return ss, r.Scan(&ss.ID, &ss.ExpiresAt, &ss.AccessUntil)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	return out, nil
}
