package call

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// All of the call package's SQL. Times come from the caller's clock, never
// from now() in SQL, so tests control them.

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// store runs the queries on a pool or inside a transaction.
type store struct{ q querier }

// errNoCall is a call id that names no call.
var errNoCall = errors.New("call: no such call")

const columns = `id, conversation_id, caller_id, callee_id, media, status, created_at,
  ringing_at, accepted_at, declined_at, missed_at, ended_at, ended_by`

// scan reads columns from row, followed by any extra destinations the
// query selected after them.
func scan(row pgx.Row, extra ...any) (Call, error) {
	var c Call
	dest := append([]any{&c.ID, &c.ConversationID, &c.CallerID, &c.CalleeID, &c.Media, &c.Status, &c.CreatedAt,
		&c.RingingAt, &c.AcceptedAt, &c.DeclinedAt, &c.MissedAt, &c.EndedAt, &c.EndedBy}, extra...)
	err := row.Scan(dest...)
	return c, err
}

// lockUsersNamespace is the first key of the advisory locks that serialize
// call creation per user (the two-int keys never meet the one-bigint keys
// other packages use).
const lockUsersNamespace = 0x63616c6c // "call"

// lockUsers takes, until the transaction ends, the call-creation lock of
// each user, in id order so two creations never wait on each other in a
// cycle. With it held, "is either user busy?" and the insert that makes
// them busy cannot interleave with another creation for the same users.
func (s store) lockUsers(ctx context.Context, users ...id.ID) error {
	a, b := users[0], users[1]
	if b < a {
		a, b = b, a
	}
	_, err := s.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashint8($2)), pg_advisory_xact_lock($1, hashint8($3))`,
		lockUsersNamespace, int64(a), int64(b))
	if err != nil {
		return fmt.Errorf("call: lock users: %w", err)
	}
	return nil
}

// busy returns the first of users that is a participant of a live call, or
// 0. The partial indexes on live callers and callees answer it.
func (s store) busy(ctx context.Context, users ...id.ID) (id.ID, error) {
	ids := []int64{int64(users[0]), int64(users[1])}
	var u int64
	err := s.q.QueryRow(ctx, `
SELECT u FROM unnest($1::bigint[]) AS u WHERE EXISTS (
  SELECT 1 FROM call_sessions c WHERE c.status = ANY($2) AND (c.caller_id = u OR c.callee_id = u))
LIMIT 1`, ids, liveStatuses).Scan(&u)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("call: busy: %w", err)
	}
	return id.ID(u), nil
}

// userExists reports whether u is a user.
func (s store) userExists(ctx context.Context, u id.ID) (bool, error) {
	var ok bool
	if err := s.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, int64(u)).Scan(&ok); err != nil {
		return false, fmt.Errorf("call: user exists: %w", err)
	}
	return ok, nil
}

// conversation returns c's kind and member ids; ok is false when there is
// no such conversation.
func (s store) conversation(ctx context.Context, c id.ID) (kind string, members []id.ID, ok bool, err error) {
	var ids []int64
	err = s.q.QueryRow(ctx, `
SELECT c.kind, coalesce(array_agg(m.user_id ORDER BY m.user_id) FILTER (WHERE m.user_id IS NOT NULL), '{}')
  FROM conversations c LEFT JOIN memberships m ON m.conversation_id = c.id
 WHERE c.id = $1 GROUP BY c.kind`, int64(c)).Scan(&kind, &ids)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("call: conversation %s: %w", c, err)
	}
	for _, u := range ids {
		members = append(members, id.ID(u))
	}
	return kind, members, true, nil
}

// isMember reports whether u is a member of conversation c.
func (s store) isMember(ctx context.Context, c, u id.ID) (bool, error) {
	var ok bool
	err := s.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE conversation_id = $1 AND user_id = $2)`,
		int64(c), int64(u)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("call: membership: %w", err)
	}
	return ok, nil
}

// insert adds a new call.
func (s store) insert(ctx context.Context, c Call) error {
	_, err := s.q.Exec(ctx, `
INSERT INTO call_sessions (id, conversation_id, caller_id, callee_id, media, status, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		int64(c.ID), int64(c.ConversationID), int64(c.CallerID), int64(c.CalleeID), string(c.Media), string(c.Status), c.CreatedAt)
	if err != nil {
		return fmt.Errorf("call: insert: %w", err)
	}
	return nil
}

// sqlMove is the state machine's one statement: it moves a call to $2 and
// stamps the status's own timestamp, but only from the states in $5 (and,
// when $6 is set, only for a call created at or before $6). Postgres
// re-checks the WHERE after waiting for a concurrent mover's row lock, so of
// racing moves from one state exactly one matches.
const sqlMove = `
UPDATE call_sessions SET status = $2,
  ringing_at  = CASE WHEN $2 = 'ringing'  THEN $3 ELSE ringing_at END,
  accepted_at = CASE WHEN $2 = 'active'   THEN $3 ELSE accepted_at END,
  declined_at = CASE WHEN $2 = 'declined' THEN $3 ELSE declined_at END,
  missed_at   = CASE WHEN $2 = 'missed'   THEN $3 ELSE missed_at END,
  ended_at    = CASE WHEN $2 = 'ended'    THEN $3 ELSE ended_at END,
  ended_by    = CASE WHEN $2 = 'ended'    THEN $4 ELSE ended_by END
 WHERE id = $1 AND status = ANY($5::text[]) AND ($6::timestamptz IS NULL OR created_at <= $6)
RETURNING ` + columns

// move applies t to call at time at, by (the ender, for end), and returns
// the call after it; ok is false when the call was not in a state t may
// start from (or was created after createdBy, when that is set).
func (s store) move(ctx context.Context, call id.ID, t transition, at time.Time, by *id.ID, createdBy *time.Time) (Call, bool, error) {
	from := make([]string, len(t.from))
	for i, f := range t.from {
		from[i] = string(f)
	}
	var byArg *int64
	if by != nil {
		v := int64(*by)
		byArg = &v
	}
	c, err := scan(s.q.QueryRow(ctx, sqlMove, int64(call), string(t.to), at, byArg, from, createdBy))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, false, nil
	}
	if err != nil {
		return Call{}, false, fmt.Errorf("call: move %s to %s: %w", call, t.to, err)
	}
	return c, true, nil
}

// get returns the call, or errNoCall.
func (s store) get(ctx context.Context, call id.ID) (Call, error) {
	c, err := scan(s.q.QueryRow(ctx, `SELECT `+columns+` FROM call_sessions WHERE id = $1`, int64(call)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, errNoCall
	}
	if err != nil {
		return Call{}, fmt.Errorf("call: get %s: %w", call, err)
	}
	return c, nil
}

// getShared returns the call under a share lock held until the end of the
// transaction: no move of the call can commit meanwhile (Effects.Apply).
func (s store) getShared(ctx context.Context, call id.ID) (Call, error) {
	c, err := scan(s.q.QueryRow(ctx, `SELECT `+columns+` FROM call_sessions WHERE id = $1 FOR SHARE`, int64(call)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, errNoCall
	}
	if err != nil {
		return Call{}, fmt.Errorf("call: get %s: %w", call, err)
	}
	return c, nil
}

// history returns up to limit calls of conversation c older than before
// (0: from the newest), newest first: a keyset page on (conversation_id, id).
func (s store) history(ctx context.Context, c id.ID, before id.ID, limit int) ([]Call, error) {
	rows, err := s.q.Query(ctx, `SELECT `+columns+` FROM call_sessions
 WHERE conversation_id = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, int64(c), int64(before), limit)
	if err != nil {
		return nil, fmt.Errorf("call: history: %w", err)
	}
	calls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Call, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("call: history: %w", err)
	}
	return calls, nil
}

// noBound is the keyset's "before" when the client gave none: above every id.
const noBound = id.ID(1<<63 - 1)

// Taken is one call of a person's history with the other participant.
type Taken struct {
	Call
	Peer user.User
}

// recent returns up to limit calls u took part in (as caller or callee, in
// any DM) older than before, newest first, each with the other
// participant. Each side is a keyset scan of its own index
// (call_sessions_caller, call_sessions_callee) stopped at limit; the merge
// keeps the newest limit of the two.
func (s store) recent(ctx context.Context, u, before id.ID, limit int) ([]Taken, error) {
	if before == 0 {
		before = noBound
	}
	rows, err := s.q.Query(ctx, `
WITH c AS (
  SELECT `+columns+` FROM (
    (SELECT * FROM call_sessions WHERE caller_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3)
    UNION ALL
    (SELECT * FROM call_sessions WHERE callee_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3)) x
  ORDER BY id DESC LIMIT $3)
SELECT c.*, `+user.ColumnsOf("p")+`
  FROM c JOIN users p ON p.id = CASE WHEN c.caller_id = $1 THEN c.callee_id ELSE c.caller_id END
 ORDER BY c.id DESC`, int64(u), int64(before), limit)
	if err != nil {
		return nil, fmt.Errorf("call: recent: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Taken, error) {
		var t Taken
		var err error
		p := &t.Peer
		t.Call, err = scan(r, user.Dest(p)...)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("call: recent: %w", err)
	}
	return out, nil
}
