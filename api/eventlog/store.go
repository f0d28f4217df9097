package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of the event log is in this file.

// sqlInsert takes the next seq under the conversation row's lock (the
// UPDATE), inserts the event with that seq written into its envelope, and
// enters it in the outbox, which holds it until it is known to be on its
// stream (see mark). An event that may not be recorded while the
// conversation is archived ($7) raises CH409 there instead, under the row's
// lock: a write racing the archive commits before it or is refused, and a
// refused batch rolls back whole.
const sqlInsert = `
WITH c AS (
  UPDATE conversations
     SET last_seq = CASE WHEN $7 AND archived_at IS NOT NULL THEN chatterly_refuse_archived(id) ELSE last_seq + 1 END,
         last_activity_at = CASE WHEN $5 THEN $6 ELSE last_activity_at END
   WHERE id = $2
  RETURNING last_seq),
e AS (
  INSERT INTO conversation_events (id, conversation_id, seq, type, envelope, created_at)
  SELECT $1, $2, c.last_seq, $3, jsonb_set($4::jsonb, '{seq}', to_jsonb(c.last_seq)), $6 FROM c
  RETURNING seq)
INSERT INTO event_outbox (conversation_id, seq, event_id)
SELECT $2, e.seq, $1 FROM e
RETURNING seq`

func queueInsert(b *pgx.Batch, eventID id.ID, s Spec, at time.Time, envelope []byte) *pgx.QueuedQuery {
	return b.Queue(sqlInsert, int64(eventID), int64(s.Conversation), s.Type, string(envelope), s.Activity, at,
		!s.WhileArchived)
}

// ErrArchived is a write refused because its conversation is archived.
var ErrArchived = fault.New(fault.ConversationArchived,
	"the conversation is archived: it is read-only until an owner or admin unarchives it")

// Archived reports whether err is the log's refusal of an event in an
// archived conversation (CH409, raised by chatterly_refuse_archived).
func Archived(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "CH409"
}

// Record queues specs in one batch on tx, sends it, and returns the events
// in order. It is for writers that already hold a transaction; writers that
// batch their own statements use Outbox.Queue.
func (o *Outbox) Record(ctx context.Context, tx pgx.Tx, specs ...Spec) ([]Event, error) {
	b := &pgx.Batch{}
	drafts := make([]*Draft, len(specs))
	for i, s := range specs {
		d, err := o.Queue(b, s)
		if err != nil {
			return nil, err
		}
		drafts[i] = d
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		if Archived(err) {
			return nil, ErrArchived
		}
		return nil, fmt.Errorf("eventlog: record: %w", err)
	}
	return Events(drafts...)
}

// Events resolves drafts whose batch has run.
func Events(drafts ...*Draft) ([]Event, error) {
	out := make([]Event, len(drafts))
	for i, d := range drafts {
		e, err := d.Event()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// store runs the log's own queries (publishing, relay, replay, retention).
type store struct{ db *pgxpool.Pool }

// mark records that the events (conversation, seq) reached the stream: it
// takes them out of the outbox.
func (s store) mark(ctx context.Context, convs, seqs []int64) error {
	if len(convs) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `
DELETE FROM event_outbox o
 USING unnest($1::bigint[], $2::bigint[]) AS p(c, s)
 WHERE o.conversation_id = p.c AND o.seq = p.s`, convs, seqs)
	if err != nil {
		return fmt.Errorf("eventlog: mark published: %w", err)
	}
	return nil
}

// seed is the highest seq of c whose predecessors, and itself, are all
// marked published (out of the outbox): the guard's starting point when Redis has lost (or
// expired) the conversation's published seq. It never overstates what was
// appended (an event is marked only after its append); it may understate,
// which costs duplicate appends, never a missing one.
func (s store) seed(ctx context.Context, c id.ID) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `
SELECT coalesce(
  (SELECT min(seq) - 1 FROM event_outbox WHERE conversation_id = $1),
  (SELECT last_seq FROM conversations WHERE id = $1),
  0)`, int64(c)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("eventlog: seed published seq of %s: %w", c, err)
	}
	return n, nil
}

// unpublished returns up to limit events created before the id floor that
// are still in the outbox, ordered by conversation and seq. An outbox entry
// whose event retention already took is skipped (and trimmed with it).
func (s store) unpublished(ctx context.Context, before id.ID, limit int) ([]Event, error) {
	rows, err := s.db.Query(ctx, `
SELECT e.conversation_id, e.seq, e.type, e.envelope::text
  FROM event_outbox o JOIN conversation_events e ON e.id = o.event_id
 WHERE o.event_id < $1
 ORDER BY o.conversation_id, o.seq LIMIT $2`, int64(before), limit)
	if err != nil {
		return nil, fmt.Errorf("eventlog: unpublished: %w", err)
	}
	return collectEvents(rows)
}

// backlog counts the outbox and returns the id of its oldest event (0
// when it is empty). The outbox holds only events not yet known to be on
// their stream, so it stays small and this reads it whole.
func (s store) backlog(ctx context.Context) (n int64, oldest id.ID, err error) {
	var first int64
	err = s.db.QueryRow(ctx, `SELECT count(*), coalesce(min(event_id), 0) FROM event_outbox`).Scan(&n, &first)
	if err != nil {
		return 0, 0, fmt.Errorf("eventlog: outbox backlog: %w", err)
	}
	return n, id.ID(first), nil
}

// between returns c's events with lo < seq < hi, published or not, in seq
// order: the relay fills a gap in the stream with them.
func (s store) between(ctx context.Context, c id.ID, lo, hi int64) ([]Event, error) {
	rows, err := s.db.Query(ctx, `
SELECT conversation_id, seq, type, envelope::text FROM conversation_events
 WHERE conversation_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq`, int64(c), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("eventlog: events of %s between %d and %d: %w", c, lo, hi, err)
	}
	return collectEvents(rows)
}

func collectEvents(rows pgx.Rows) ([]Event, error) {
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		var conv int64
		var env string
		if err := r.Scan(&conv, &e.Seq, &e.Type, &env); err != nil {
			return e, err
		}
		// jsonb's text has a space after every colon and comma; the relay
		// appends the envelope compact, as the publisher does, so a
		// relayed entry has the same form as a live one (a client that
		// matches bytes, such as the bench's sockets, finds its fields).
		var buf bytes.Buffer
		err := json.Compact(&buf, []byte(env))
		e.ConversationID, e.Envelope = id.ID(conv), buf.Bytes()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("eventlog: read events: %w", err)
	}
	return evs, nil
}

// replay returns up to limit envelopes of c with seq > after, in seq order.
func (s store) replay(ctx context.Context, c id.ID, after int64, limit int) ([]int64, []json.RawMessage, error) {
	rows, err := s.db.Query(ctx, `
SELECT seq, envelope::text FROM conversation_events
 WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, int64(c), after, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("eventlog: replay: %w", err)
	}
	defer rows.Close()
	var seqs []int64
	var envs []json.RawMessage
	for rows.Next() {
		var seq int64
		var env string
		if err := rows.Scan(&seq, &env); err != nil {
			return nil, nil, fmt.Errorf("eventlog: replay: %w", err)
		}
		seqs, envs = append(seqs, seq), append(envs, json.RawMessage(env))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("eventlog: replay: %w", err)
	}
	return seqs, envs, nil
}

// lastSeq is the seq of c's newest committed event (0 for none).
func (s store) lastSeq(ctx context.Context, c id.ID) (int64, bool, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT last_seq FROM conversations WHERE id = $1`, int64(c)).Scan(&n)
	if err == pgx.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("eventlog: last seq: %w", err)
	}
	return n, true, nil
}

// trim deletes up to batch events with ids below before and returns how
// many it deleted.
func (s store) trim(ctx context.Context, before id.ID, batch int) (int64, error) {
	tag, err := s.db.Exec(ctx, `
DELETE FROM conversation_events WHERE id IN (
  SELECT id FROM conversation_events WHERE id < $1 LIMIT $2)`, int64(before), batch)
	if err != nil {
		return 0, fmt.Errorf("eventlog: trim: %w", err)
	}
	return tag.RowsAffected(), nil
}

// trimOutbox deletes the outbox entries of events with ids below before:
// retention took the events (or will), and the relay cannot send what the
// log no longer has.
func (s store) trimOutbox(ctx context.Context, before id.ID) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM event_outbox WHERE event_id < $1`, int64(before)); err != nil {
		return fmt.Errorf("eventlog: trim outbox: %w", err)
	}
	return nil
}

// ScrubBody removes the body and the attachments (their names, sizes,
// types) from the logged message.created and message.updated events of
// message m in conversation c, inside the transaction that deletes m:
// replay must not hand out what the API no longer shows. Events older than since (an id floor at or before m's
// creation) are not searched; none of m's can be.
func ScrubBody(ctx context.Context, tx pgx.Tx, c, m, since id.ID) error {
	_, err := tx.Exec(ctx, `
UPDATE conversation_events SET envelope = jsonb_set(jsonb_set(envelope, '{data,body}', 'null'), '{data,attachments}', '[]')
 WHERE conversation_id = $1 AND id >= $2 AND type IN ('message.created', 'message.updated')
   AND envelope->'data'->>'id' = $3`, int64(c), int64(since), m.String())
	if err != nil {
		return fmt.Errorf("eventlog: scrub body of %s: %w", m, err)
	}
	return nil
}
