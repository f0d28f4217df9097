package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every SQL statement of conversations and memberships is in this file.

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// convColumns are the columns scanConversation reads, of alias "c".
var convColumns = convColumnsOf("c")

func convColumnsOf(a string) string {
	return a + ".id, " + a + ".kind, " + a + ".name, " + a + ".topic, " + a + ".created_by, " + a + ".created_at, " +
		a + ".updated_at, " + a + ".archived_at, " + a + ".dm_key, (SELECT count(*) FROM memberships mc WHERE mc.conversation_id = " + a + ".id)"
}

func scanConversation(row pgx.Row, extra ...any) (Conversation, error) {
	var c Conversation
	var dmKey *string
	dest := append([]any{&c.ID, &c.Kind, &c.Name, &c.Topic, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &c.ArchivedAt, &dmKey, &c.MemberCount}, extra...)
	if err := row.Scan(dest...); err != nil {
		return c, err
	}
	if dmKey != nil {
		for _, p := range strings.Split(*dmKey, ":") {
			u, err := id.Parse(p)
			if err != nil {
				return c, fmt.Errorf("conversation %s: bad dm_key %q", c.ID, *dmKey)
			}
			c.DMUsers = append(c.DMUsers, u)
		}
	}
	return c, nil
}

// dmKey is the unique key of the DM between a and b.
func dmKey(a, b id.ID) string {
	if a > b {
		a, b = b, a
	}
	return a.String() + ":" + b.String()
}

func loadConversation(ctx context.Context, q querier, c id.ID) (Conversation, error) {
	conv, err := scanConversation(q.QueryRow(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.id = $1`, int64(c)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, errNotFound
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("conversation: load %s: %w", c, err)
	}
	return conv, nil
}

// loadAccess reads c and what user is to it.
func loadAccess(ctx context.Context, q querier, c, u id.ID) (Conversation, Access, error) {
	var role *string
	conv, err := scanConversation(q.QueryRow(ctx, `SELECT `+convColumns+`,
  (SELECT role FROM memberships m WHERE m.conversation_id = c.id AND m.user_id = $2)
FROM conversations c WHERE c.id = $1`, int64(c), int64(u)), &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, Access{}, errNotFound
	}
	if err != nil {
		return Conversation{}, Access{}, fmt.Errorf("conversation: access %s: %w", c, err)
	}
	a := Access{Kind: conv.Kind}
	if role != nil {
		a.Role = Role(*role)
	}
	return conv, a, nil
}

// lockAccess is loadAccess taking the conversation row's lock first, for
// writes whose checks must hold until commit (a member being removed
// while an admin is demoted, say).
func lockAccess(ctx context.Context, tx pgx.Tx, c, u id.ID) (Access, error) {
	var kind string
	var role *string
	err := tx.QueryRow(ctx, `SELECT c.kind,
  (SELECT role FROM memberships m WHERE m.conversation_id = c.id AND m.user_id = $2)
FROM conversations c WHERE c.id = $1 FOR UPDATE`, int64(c), int64(u)).Scan(&kind, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return Access{}, errNotFound
	}
	if err != nil {
		return Access{}, fmt.Errorf("conversation: lock %s: %w", c, err)
	}
	a := Access{Kind: kind}
	if role != nil {
		a.Role = Role(*role)
	}
	return a, nil
}

// dmWith returns the DM of the pair, if there is one.
func dmWith(ctx context.Context, q querier, a, b id.ID) (id.ID, bool, error) {
	var c int64
	err := q.QueryRow(ctx, `SELECT id FROM conversations WHERE dm_key = $1`, dmKey(a, b)).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("conversation: find dm: %w", err)
	}
	return id.ID(c), true, nil
}

// insertConversation inserts c. A taken channel name is already_exists; a
// DM pair that exists already answers false.
func insertConversation(ctx context.Context, tx pgx.Tx, c Conversation) (bool, error) {
	var key *string
	if c.Kind == DM {
		k := dmKey(c.DMUsers[0], c.DMUsers[1])
		key = &k
	}
	tag, err := tx.Exec(ctx, `
INSERT INTO conversations (id, kind, name, topic, dm_key, created_by, created_at, updated_at, last_activity_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) ON CONFLICT (dm_key) DO NOTHING`,
		int64(c.ID), c.Kind, c.Name, c.Topic, key, int64(c.CreatedBy), c.CreatedAt)
	if isUnique(err, "conversations_channel_name") {
		return false, &fault.Error{Code: fault.AlreadyExists, Field: "name", Message: "a channel with that name exists"}
	}
	if err != nil {
		return false, fmt.Errorf("conversation: insert: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == constraint
}

// errNoSuchUser is the cause of addMembers' error for a user that does not
// exist.
var errNoSuchUser = errors.New("conversation: no such user")

// noSuchUser is the validation error on field for a user that does not
// exist, or blocks the one asking (errors.Is errNoSuchUser).
func noSuchUser(field string) error {
	return &fault.Error{Code: fault.Validation, Field: field, Message: "no such user", Err: errNoSuchUser}
}

// addMembers makes users members of c with role, on behalf of by, skipping
// existing members, and returns the new memberships. Users that do not
// exist, or that block by (api/block: to by they are not there), are
// noSuchUser on field.
func addMembers(ctx context.Context, tx pgx.Tx, c, by id.ID, users []id.ID, role Role, at time.Time, field string) ([]Membership, error) {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = int64(u)
	}
	var found int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM users u WHERE u.id = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $2)`, ids, int64(by)).Scan(&found); err != nil {
		return nil, fmt.Errorf("conversation: check users: %w", err)
	}
	if found != len(ids) {
		return nil, noSuchUser(field)
	}
	rows, err := tx.Query(ctx, `
INSERT INTO memberships (conversation_id, user_id, role, joined_at)
SELECT $1, u, $3, $4 FROM unnest($2::bigint[]) WITH ORDINALITY AS t(u, n) ORDER BY n
ON CONFLICT DO NOTHING
RETURNING user_id`, int64(c), ids, string(role), at)
	if err != nil {
		return nil, fmt.Errorf("conversation: add members: %w", err)
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("conversation: add members: %w", err)
	}
	out := make([]Membership, len(added))
	for i, u := range added {
		out[i] = Membership{ConversationID: c, UserID: id.ID(u), Role: role, JoinedAt: at}
	}
	return out, nil
}

// loadMembership reads u's membership of c.
func loadMembership(ctx context.Context, q querier, c, u id.ID) (Membership, bool, error) {
	m := Membership{ConversationID: c, UserID: u}
	var role string
	var lr int64
	err := q.QueryRow(ctx, `SELECT role, joined_at, last_read_message_id, notify_level,
  coalesce((extract(epoch FROM muted_until) * 1000)::bigint, 0)
FROM memberships WHERE conversation_id = $1 AND user_id = $2`, int64(c), int64(u)).Scan(&role, &m.JoinedAt, &lr, &m.Level, &m.MutedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("conversation: membership: %w", err)
	}
	m.Role, m.LastRead = Role(role), id.ID(lr)
	return m, true, nil
}

// removeMember deletes u's membership of c and returns it.
func removeMember(ctx context.Context, tx pgx.Tx, c, u id.ID) (Membership, bool, error) {
	m := Membership{ConversationID: c, UserID: u}
	var role string
	err := tx.QueryRow(ctx, `DELETE FROM memberships WHERE conversation_id = $1 AND user_id = $2
RETURNING role, joined_at`, int64(c), int64(u)).Scan(&role, &m.JoinedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("conversation: remove member: %w", err)
	}
	m.Role = Role(role)
	return m, true, nil
}

// setRole sets u's role in c.
func setRole(ctx context.Context, tx pgx.Tx, c, u id.ID, role Role) error {
	if _, err := tx.Exec(ctx, `UPDATE memberships SET role = $3 WHERE conversation_id = $1 AND user_id = $2`,
		int64(c), int64(u), string(role)); err != nil {
		return fmt.Errorf("conversation: set role: %w", err)
	}
	return nil
}

// memberCount is how many members c has.
func memberCount(ctx context.Context, tx pgx.Tx, c id.ID) (int, error) {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE conversation_id = $1`, int64(c)).Scan(&n); err != nil {
		return 0, fmt.Errorf("conversation: member count: %w", err)
	}
	return n, nil
}

// update sets c's name and topic (nil leaves one as it is) and returns c.
func update(ctx context.Context, tx pgx.Tx, c id.ID, name, topic *string, at time.Time) (Conversation, error) {
	conv, err := scanConversation(tx.QueryRow(ctx, `
WITH u AS (
  UPDATE conversations SET name = coalesce($2, name), topic = coalesce($3, topic), updated_at = $4
   WHERE id = $1 RETURNING *)
SELECT `+convColumnsOf("u")+` FROM u`, int64(c), name, topic, at))
	if isUnique(err, "conversations_channel_name") {
		return Conversation{}, &fault.Error{Code: fault.AlreadyExists, Field: "name", Message: "a channel with that name exists"}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, errNotFound
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("conversation: update: %w", err)
	}
	return conv, nil
}

// memberOfRows reads u's memberships, for the cached list.
func memberOfRows(ctx context.Context, q querier, u id.ID) ([]memberOf, error) {
	rows, err := q.Query(ctx, `SELECT conversation_id, role, last_read_message_id, notify_level,
  coalesce((extract(epoch FROM muted_until) * 1000)::bigint, 0)
FROM memberships WHERE user_id = $1`, int64(u))
	if err != nil {
		return nil, fmt.Errorf("conversation: memberships of %s: %w", u, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (memberOf, error) {
		var m memberOf
		var c int64
		var role string
		err := r.Scan(&c, &role, &m.LastRead, &m.Level, &m.MutedUntil)
		m.Conversation, m.Role = c, Role(role)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("conversation: memberships of %s: %w", u, err)
	}
	return out, nil
}

// members pages c's members by user id, with their users.
func members(ctx context.Context, q querier, c, after id.ID, limit int) ([]MemberJSON, error) {
	rows, err := q.Query(ctx, `SELECT m.role, m.joined_at, `+user.ColumnsOf("u")+`
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.conversation_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3`, int64(c), int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("conversation: members: %w", err)
	}
	defer rows.Close()
	out := []MemberJSON{}
	for rows.Next() {
		var role string
		var joined time.Time
		var u user.User
		if err := rows.Scan(append([]any{&role, &joined}, user.Dest(&u)...)...); err != nil {
			return nil, fmt.Errorf("conversation: members: %w", err)
		}
		uj := user.Render(u)
		out = append(out, MemberJSON{UserID: u.ID, Role: Role(role), JoinedAt: ms(joined), User: &uj})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("conversation: members: %w", err)
	}
	return out, nil
}

// channels pages channels whose name starts with prefix, by name, with
// whether viewer is a member.
func channels(ctx context.Context, q querier, prefix, after string, viewer id.ID, limit int) ([]Conversation, []bool, error) {
	rows, err := q.Query(ctx, `SELECT `+convColumns+`,
  EXISTS (SELECT 1 FROM memberships m WHERE m.conversation_id = c.id AND m.user_id = $3)
FROM conversations c
WHERE c.kind = 'channel' AND c.name LIKE $1 AND c.name > $2
ORDER BY c.name LIMIT $4`, likePrefix(prefix), after, int64(viewer), limit)
	if err != nil {
		return nil, nil, fmt.Errorf("conversation: channels: %w", err)
	}
	defer rows.Close()
	var convs []Conversation
	var member []bool
	for rows.Next() {
		var m bool
		c, err := scanConversation(rows, &m)
		if err != nil {
			return nil, nil, fmt.Errorf("conversation: channels: %w", err)
		}
		convs, member = append(convs, c), append(member, m)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("conversation: channels: %w", err)
	}
	return convs, member, nil
}

// likePrefix is a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

// lastSeq reads c's newest event seq.
func lastSeq(ctx context.Context, q querier, c id.ID) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT last_seq FROM conversations WHERE id = $1`, int64(c)).Scan(&n); err != nil {
		return 0, fmt.Errorf("conversation: last seq: %w", err)
	}
	return n, nil
}

// setArchived archives c (archive true) or unarchives it at at, and returns
// c and whether it changed (archiving an archived conversation does not).
func setArchived(ctx context.Context, tx pgx.Tx, c id.ID, archive bool, at time.Time) (Conversation, bool, error) {
	conv, err := scanConversation(tx.QueryRow(ctx, `
WITH u AS (
  UPDATE conversations SET archived_at = CASE WHEN $2 THEN $3::timestamptz END, updated_at = $3
   WHERE id = $1 AND (archived_at IS NOT NULL) <> $2 RETURNING *)
SELECT `+convColumnsOf("u")+` FROM u`, int64(c), archive, at))
	if errors.Is(err, pgx.ErrNoRows) {
		conv, err = loadConversation(ctx, tx, c)
		return conv, false, err
	}
	if err != nil {
		return Conversation{}, false, fmt.Errorf("conversation: archive: %w", err)
	}
	return conv, true, nil
}
