// Package eventlog is each conversation's event log: the outbox written in
// the same transaction as the change it describes, the ordered publisher
// that appends committed events to the Redis shard streams, the relay that
// republishes what was committed but never published, the replay query
// clients use after a gap, and the retention trim.
//
// Guarantees. seq is per conversation, starts at 1, and is gap-free and
// strictly increasing among committed events: it is taken from
// conversations.last_seq under that row's lock, inside the writing
// transaction, so a rolled-back write gives its seq back. Every committed
// event reaches its shard stream at least once (the publisher right after
// commit, else the relay), and the stream carries each conversation's events
// in seq order (the guard script, guard.go). A duplicate append is possible
// after a Redis or process failure; clients drop a seq they have applied.
package eventlog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
)

// Event is one committed entry of a conversation's log, ready to publish.
type Event struct {
	ConversationID id.ID
	Seq            int64
	Type           string
	// Envelope is the encoded event.Envelope, seq included, as the stream
	// carries it. (Replay returns the same JSON as Postgres' jsonb stores
	// it: same members and values, other spacing and member order.)
	Envelope []byte
}

// Topic is the stream topic of the event's conversation.
func (e Event) Topic() string { return rkey.ConversationTopic(e.ConversationID) }

// Spec describes an event to record.
type Spec struct {
	Conversation id.ID
	Type         string
	// Data is the event's payload: the resource as the shared serializer
	// renders it, without per-viewer fields. It is encoded with
	// encoding/json.
	Data any
	// Activity moves the conversation's last_activity_at to the event's
	// time (message writes do; membership and settings changes do not).
	Activity bool
	// WhileArchived lets the event be recorded while the conversation is
	// archived: leaving, role changes, the archive's own events. Any other
	// is refused there with ErrArchived (an archived conversation is
	// read-only), which makes the rule hold for every writer by default.
	WhileArchived bool
}

// Draft is an event queued in a batch. Its Event is valid once the batch has
// been sent and closed without error.
type Draft struct {
	env event.Envelope
	seq int64
}

// Event returns the recorded event with its seq.
func (d *Draft) Event() (Event, error) {
	if d.seq == 0 {
		return Event{}, fmt.Errorf("eventlog: %s event of %s has no seq: its batch did not run", d.env.Type, d.env.ConversationID)
	}
	env := d.env
	env.Seq = d.seq
	b, err := event.Encode(env)
	if err != nil {
		return Event{}, fmt.Errorf("eventlog: encode: %w", err)
	}
	return Event{ConversationID: env.ConversationID, Seq: d.seq, Type: env.Type, Envelope: b}, nil
}

// Outbox records events inside the caller's transaction.
type Outbox struct {
	ids *id.Generator
	now func() time.Time
}

// NewOutbox returns an Outbox drawing event ids from ids and times from now.
func NewOutbox(ids *id.Generator, now func() time.Time) *Outbox {
	return &Outbox{ids: ids, now: now}
}

// Queue adds to b the statement that takes the next seq of s.Conversation
// and inserts the event. b must run in one transaction with the change the
// event describes: a Tx, Batch.BeginTx, or a batch sent outside any
// transaction, which Postgres runs as one implicit transaction committed
// at its end. The seq is the conversation row's, so the transaction holds
// that row's lock from this statement to its end: queue it last.
func (o *Outbox) Queue(b *pgx.Batch, s Spec) (*Draft, error) {
	data, err := json.Marshal(s.Data)
	if err != nil {
		return nil, fmt.Errorf("eventlog: encode %s data: %w", s.Type, err)
	}
	d := &Draft{env: event.Envelope{Type: s.Type, ConversationID: s.Conversation,
		At: o.now().UTC().Truncate(time.Millisecond), Data: data}}
	envelope, err := event.Encode(d.env)
	if err != nil {
		return nil, fmt.Errorf("eventlog: encode: %w", err)
	}
	queueInsert(b, o.ids.Next(), s, d.env.At, envelope).QueryRow(func(row pgx.Row) error {
		return row.Scan(&d.seq)
	})
	return d, nil
}
