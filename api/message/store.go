package message

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every SQL statement of messages is in this file.

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// msgColumns read a message of alias m with its reactions, aggregated per
// emoji in the order of each emoji's first use (a deleted message's are
// not read).
const msgColumns = `m.id, m.conversation_id, m.user_id, m.parent_id, m.body, m.reply_count, m.last_reply_at,
  m.created_at, m.edited_at, m.deleted_at, CASE WHEN m.deleted_at IS NULL THEN m.mentions END,
  CASE WHEN m.deleted_at IS NULL THEN m.attachments END,
  CASE WHEN m.deleted_at IS NULL THEN (
    SELECT json_agg(json_build_object('e', g.emoji, 'u', g.users) ORDER BY g.first, g.emoji)
      FROM (SELECT emoji, array_agg(user_id::text ORDER BY created_at, user_id) AS users, min(created_at) AS first
              FROM reactions r WHERE r.message_id = m.id GROUP BY emoji) g) END`

func scanMessage(row pgx.Row) (Message, error) {
	var m Message
	var parent *int64
	var body *string
	var reactions, mentions, attachments []byte
	err := row.Scan(&m.ID, &m.ConversationID, &m.UserID, &parent, &body, &m.ReplyCount, &m.LastReplyAt,
		&m.CreatedAt, &m.EditedAt, &m.DeletedAt, &mentions, &attachments, &reactions)
	if err != nil {
		return m, err
	}
	if parent != nil {
		m.ParentID = id.ID(*parent)
	}
	if m.Deleted() {
		// A tombstone's body never leaves the database, cache included.
		return m, nil
	}
	if body != nil {
		m.Body = *body
	}
	if len(reactions) > 0 {
		if err := json.Unmarshal(reactions, &m.Reactions); err != nil {
			return m, fmt.Errorf("message %s: reactions: %w", m.ID, err)
		}
	}
	if len(mentions) > 0 {
		m.Mentions = new(mention.Mentions)
		if err := json.Unmarshal(mentions, m.Mentions); err != nil {
			return m, fmt.Errorf("message %s: mentions: %w", m.ID, err)
		}
	}
	if len(attachments) > 0 {
		if err := json.Unmarshal(attachments, &m.Attachments); err != nil {
			return m, fmt.Errorf("message %s: attachments: %w", m.ID, err)
		}
	}
	return m, nil
}

func collect(rows pgx.Rows, err error) ([]Message, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) { return scanMessage(r) })
}

// errNoRow is a message that is not in the table.
var errNoRow = errors.New("message: no such row")

// load reads message m.
func load(ctx context.Context, q querier, m id.ID) (Message, error) {
	msg, err := scanMessage(q.QueryRow(ctx, `SELECT `+msgColumns+` FROM messages m WHERE m.id = $1`, int64(m)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Message{}, errNoRow
	}
	if err != nil {
		return Message{}, fmt.Errorf("message: load %s: %w", m, err)
	}
	return msg, nil
}

// loadMany reads the messages of ids that exist, in no particular order.
func loadMany(ctx context.Context, q querier, ids []id.ID) ([]Message, error) {
	keys := make([]int64, len(ids))
	for i, m := range ids {
		keys[i] = int64(m)
	}
	ms, err := collect(q.Query(ctx, `SELECT `+msgColumns+` FROM messages m WHERE m.id = ANY($1)`, keys))
	if err != nil {
		return nil, fmt.Errorf("message: load many: %w", err)
	}
	return ms, nil
}

// Keyset is a page request: ids strictly between After and Before (0 for
// no bound), ascending or not, at most Limit.
type Keyset struct {
	After, Before id.ID
	Asc           bool
	Limit         int
}

// timeline reads top-level messages of c (parent 0) or the replies to
// parent.
func timeline(ctx context.Context, q querier, c, parent id.ID, k Keyset) ([]Message, error) {
	where := `m.conversation_id = $1 AND m.parent_id IS NULL`
	key := int64(c)
	if parent != 0 {
		where, key = `m.parent_id = $1`, int64(parent)
	}
	order := "DESC"
	if k.Asc {
		order = "ASC"
	}
	before := int64(k.Before)
	if before == 0 {
		before = 1<<63 - 1
	}
	ms, err := collect(q.Query(ctx, `SELECT `+msgColumns+` FROM messages m
WHERE `+where+` AND m.id > $2 AND m.id < $3 ORDER BY m.id `+order+` LIMIT $4`, key, int64(k.After), before, k.Limit))
	if err != nil {
		return nil, fmt.Errorf("message: timeline: %w", err)
	}
	return ms, nil
}

// queueSend adds to b the statements of a send: the idempotency key, the
// message, and the parent's thread counters. b is sent as one implicit
// transaction, so a taken key (a unique violation, see keyTaken) aborts
// the whole send. The message's insert also reads, into dm, the DM's key
// when the conversation is a DM (the other person a DM notifies), so a
// send learns it without another query.
func queueSend(b *pgx.Batch, m Message, dm *sendResult) error {
	if m.ClientMsgID != "" {
		b.Queue(`INSERT INTO message_idempotency (user_id, client_msg_id, message_id, created_at)
VALUES ($1, $2, $3, $4)`, int64(m.UserID), m.ClientMsgID, int64(m.ID), m.CreatedAt)
	}
	var parent *int64
	if m.ParentID != 0 {
		p := int64(m.ParentID)
		parent = &p
	}
	mentions, err := mentionsArg(m.Mentions)
	if err != nil {
		return err
	}
	var attachments any
	if len(m.Attachments) > 0 {
		// The files are claimed before the message is inserted: a file
		// that cannot be (see chatterly_attach_files) aborts the batch.
		ids := make([]int64, len(m.Attachments))
		for i, a := range m.Attachments {
			ids[i] = int64(a.ID)
		}
		b.Queue(`SELECT chatterly_attach_files($1, $2, $3, $4)`, int64(m.ID), int64(m.ConversationID), int64(m.UserID), ids)
		j, err := json.Marshal(m.Attachments)
		if err != nil {
			return fmt.Errorf("message: encode attachments: %w", err)
		}
		attachments = string(j)
	}
	b.Queue(`INSERT INTO messages (id, conversation_id, user_id, parent_id, body, created_at, mentions, attachments)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING (SELECT dm_key FROM conversations WHERE id = $2)`, int64(m.ID), int64(m.ConversationID), int64(m.UserID),
		parent, m.Body, m.CreatedAt, mentions, attachments).QueryRow(dm.scan)
	if m.ParentID != 0 {
		b.Queue(`UPDATE messages SET reply_count = reply_count + 1, last_reply_at = $3
WHERE id = $1 AND conversation_id = $2 AND parent_id IS NULL`,
			int64(m.ParentID), int64(m.ConversationID), m.CreatedAt)
	}
	return nil
}

// sendResult is what a send's insert returns: the DM's key ("<lower
// id>:<higher id>") when the conversation is a DM.
type sendResult struct{ dmKey *string }

func (r *sendResult) scan(row pgx.Row) error { return row.Scan(&r.dmKey) }

// dmUsers are the two people of the DM (none when it is no DM).
func (r *sendResult) dmUsers() ([]id.ID, error) {
	if r.dmKey == nil {
		return nil, nil
	}
	a, b, _ := strings.Cut(*r.dmKey, ":")
	x, err1 := id.Parse(a)
	y, err2 := id.Parse(b)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("message: bad dm_key %q", *r.dmKey)
	}
	return []id.ID{x, y}, nil
}

// mentionsArg is m as the mentions column takes it: NULL for none.
func mentionsArg(m *mention.Mentions) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("message: encode mentions: %w", err)
	}
	return string(b), nil
}

// attachRefused reports whether err is chatterly_attach_files refusing a
// file.
func attachRefused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "CH422"
}

// keyTaken reports whether err is the idempotency key's unique violation.
func keyTaken(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "message_idempotency_pkey"
}

// parentAuthor returns the author of message p when p can take replies in
// conversation c (it is top-level, of c, and not deleted), else 0.
func parentAuthor(ctx context.Context, q querier, p, c id.ID) (id.ID, error) {
	var author int64
	err := q.QueryRow(ctx, `SELECT user_id FROM messages
WHERE id = $1 AND conversation_id = $2 AND parent_id IS NULL AND deleted_at IS NULL`, int64(p), int64(c)).Scan(&author)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("message: check parent: %w", err)
	}
	return id.ID(author), nil
}

// sentBefore returns the message a user's earlier send with key made.
func sentBefore(ctx context.Context, q querier, u id.ID, key string) (id.ID, bool, error) {
	var m int64
	err := q.QueryRow(ctx, `SELECT message_id FROM message_idempotency WHERE user_id = $1 AND client_msg_id = $2`,
		int64(u), key).Scan(&m)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("message: idempotency key: %w", err)
	}
	return id.ID(m), true, nil
}

// edit replaces m's body and mentions if it is not deleted; false when it
// is.
func edit(ctx context.Context, tx pgx.Tx, m id.ID, body string, mentions *mention.Mentions, at time.Time) (bool, error) {
	arg, err := mentionsArg(mentions)
	if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `UPDATE messages SET body = $2, edited_at = $3, mentions = $4 WHERE id = $1 AND deleted_at IS NULL`,
		int64(m), body, at, arg)
	if err != nil {
		return false, fmt.Errorf("message: edit: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// softDelete sets m's deleted_at if it is not set; false when it was.
func softDelete(ctx context.Context, tx pgx.Tx, m id.ID, at time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE messages SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`, int64(m), at)
	if err != nil {
		return false, fmt.Errorf("message: delete: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// tailRow is what a conversation's preview is made of.
type tailRow struct {
	activity time.Time
	last     *Message
	// recent holds (id, author) of up to n newest top-level messages that
	// are not deleted, newest first; complete when that is all of them.
	recent   [][2]int64
	complete bool
	// mentions are up to n newest messages (any level) that mention
	// someone and are not deleted, newest first; complete when that is
	// all of them.
	mentions         []mentionRow
	mentionsComplete bool
}

// mentionRow is a message that mentions someone.
type mentionRow struct {
	id, author int64
	mentions   mention.Mentions
}

// tailRows reads c's activity time, its newest top-level message, and the
// ids and authors of up to n newest top-level messages that are not
// deleted.
func tailRows(ctx context.Context, q querier, c id.ID, n int) (tailRow, error) {
	var t tailRow
	err := q.QueryRow(ctx, `SELECT last_activity_at FROM conversations WHERE id = $1`, int64(c)).Scan(&t.activity)
	if err != nil {
		return t, fmt.Errorf("message: preview of %s: %w", c, err)
	}
	last, err := collect(q.Query(ctx, `SELECT `+msgColumns+` FROM messages m
WHERE m.conversation_id = $1 AND m.parent_id IS NULL ORDER BY m.id DESC LIMIT 1`, int64(c)))
	if err != nil {
		return t, fmt.Errorf("message: preview of %s: %w", c, err)
	}
	if len(last) == 1 {
		t.last = &last[0]
	}
	rows, err := q.Query(ctx, `SELECT id, user_id FROM messages
WHERE conversation_id = $1 AND parent_id IS NULL AND deleted_at IS NULL ORDER BY id DESC LIMIT $2`, int64(c), n+1)
	if err != nil {
		return t, fmt.Errorf("message: preview of %s: %w", c, err)
	}
	defer rows.Close()
	for rows.Next() {
		var mid, uid int64
		if err := rows.Scan(&mid, &uid); err != nil {
			return t, fmt.Errorf("message: preview of %s: %w", c, err)
		}
		t.recent = append(t.recent, [2]int64{mid, uid})
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("message: preview of %s: %w", c, err)
	}
	t.complete = len(t.recent) <= n
	if !t.complete {
		t.recent = t.recent[:n]
	}
	mrows, err := q.Query(ctx, `SELECT id, user_id, mentions FROM messages
WHERE conversation_id = $1 AND mentions IS NOT NULL AND deleted_at IS NULL ORDER BY id DESC LIMIT $2`, int64(c), n+1)
	if err != nil {
		return t, fmt.Errorf("message: preview of %s: %w", c, err)
	}
	t.mentions, err = pgx.CollectRows(mrows, func(r pgx.CollectableRow) (mentionRow, error) {
		var m mentionRow
		var raw []byte
		if err := r.Scan(&m.id, &m.author, &raw); err != nil {
			return m, err
		}
		return m, json.Unmarshal(raw, &m.mentions)
	})
	if err != nil {
		return t, fmt.Errorf("message: preview of %s: %w", c, err)
	}
	t.mentionsComplete = len(t.mentions) <= n
	if !t.mentionsComplete {
		t.mentions = t.mentions[:n]
	}
	return t, nil
}

// unread counts, up to limit, the top-level messages of c after the marker
// that are not deleted and not by u.
func unread(ctx context.Context, q querier, c, after, u id.ID, limit int) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM (
  SELECT 1 FROM messages WHERE conversation_id = $1 AND parent_id IS NULL AND deleted_at IS NULL
     AND id > $2 AND user_id <> $3 LIMIT $4) x`, int64(c), int64(after), int64(u), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("message: unread in %s: %w", c, err)
	}
	return n, nil
}

// mentionCount counts, up to limit, the messages of c after the marker
// that are not deleted, not by u, and mention u (by name, @channel or
// @here).
func mentionCount(ctx context.Context, q querier, c, after, u id.ID, limit int) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM (
  SELECT 1 FROM messages WHERE conversation_id = $1 AND mentions IS NOT NULL AND deleted_at IS NULL
     AND id > $2 AND user_id <> $3
     AND ((mentions->>'channel')::boolean OR (mentions->>'here')::boolean
          OR mentions->'users' @> jsonb_build_array(jsonb_build_object('id', $3::text)))
   LIMIT $4) x`, int64(c), int64(after), int64(u), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("message: mentions in %s: %w", c, err)
	}
	return n, nil
}

// trimKeys deletes idempotency keys made before t.
func trimKeys(ctx context.Context, q querier, t time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM message_idempotency WHERE created_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("message: trim idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
