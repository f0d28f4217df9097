package message

import (
	"context"
	"errors"
	"time"

	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the messages' domain.
type Service struct {
	env      *conversation.Env
	notifier *mention.Notifier
	files    Files
}

// Files is what sends and deletions need of uploaded files (api/file).
type Files interface {
	// Attachable returns the attachments of files ids, in that order, when
	// caller uploaded and completed every one and attached none yet; a
	// validation fault on attachment_ids otherwise. The send's own
	// statement (chatterly_attach_files) claims them for good.
	Attachable(ctx context.Context, caller id.ID, ids []id.ID) ([]Attachment, error)
	// Detach marks the files of message m deleted in tx, so no URL serves
	// them from its commit on, and returns what removes their bytes, to be
	// run after the commit (nil when m had none).
	Detach(ctx context.Context, tx pgx.Tx, m id.ID) (func(), error)
}

// New returns a Service; notifier sends the notifications of sends, files
// checks and detaches attachments.
func New(env *conversation.Env, notifier *mention.Notifier, files Files) *Service {
	return &Service{env: env, notifier: notifier, files: files}
}

// Cache kinds of this package (viewer-neutral JSON).
const (
	// kindPage is a conversation's newest timeline page, by conversation
	// ("page2": the entry became the rendered lines of page.go, and an
	// entry of the old form must not be read as one).
	kindPage = "page2"
	// kindTail is a conversation's preview material, by conversation
	// ("tail2": the entry gained the mentions line, and an entry of the
	// old form must not be read as one).
	kindTail = "tail2"
)

// Refs are the cache entries a write to c's messages changes: any write
// may change the newest page (a reply bumps its root's counters) and the
// preview (activity, last message, unread).
func Refs(c id.ID) []cache.Ref {
	return []cache.Ref{{Kind: kindPage, ID: c.String()}, {Kind: kindTail, ID: c.String()}}
}

// SendInput is a message as the client sent it.
type SendInput struct {
	Body        string
	ParentID    id.ID
	ClientMsgID string
	// AttachmentIDs are files the caller uploaded (api/file), attached in
	// this order; a message with attachments may have no body.
	AttachmentIDs []id.ID
}

// maxAttachments is how many files one message carries at most.
const maxAttachments = 10

// errAttachTaken: a file passed Attachable but another send claimed it
// (or it was deleted) before this one committed.
var errAttachTaken = fault.Invalid("attachment_ids", "a file is attached to another message already")

var errBadParent = fault.Invalid("parent_id", "parent_id must be a top-level message of this conversation that is not deleted")

// Send posts a message to c as caller. A send repeating a client_msg_id
// the caller used before answers the first message and false, whatever
// happened to the first request's connection: a retry never duplicates.
func (s *Service) Send(ctx context.Context, caller, c id.ID, in SendInput) (Message, bool, error) {
	if len(in.AttachmentIDs) > maxAttachments {
		return Message{}, false, fault.Invalid("attachment_ids", "a message has at most 10 attachments")
	}
	body, err := cleanBody(in.Body, len(in.AttachmentIDs) > 0)
	if err != nil {
		return Message{}, false, err
	}
	if in.ClientMsgID != "" {
		if err := checkClientMsgID(in.ClientMsgID); err != nil {
			return Message{}, false, err
		}
	}
	a, err := s.env.Participant(ctx, c, caller)
	if err != nil {
		return Message{}, false, fault.Wrap(err, "send message")
	}
	if err := CanPost(a); err != nil {
		return Message{}, false, err
	}
	// A retry is told from a first send by the idempotency key's insert,
	// in the send's own round trip, not by a lookup before it: most sends
	// carry a key and almost none are retries. (A retry spends the rate
	// limit like any send.)
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.Messages, caller.String()); err != nil {
		return Message{}, false, err
	}
	var parent id.ID
	if in.ParentID != 0 {
		// A parent never changes conversation or level; a parent deleted
		// between this check and the send keeps its reply (as a thread of
		// a tombstone), which is no worse than a reply a moment earlier.
		// Its author is who the reply notifies.
		if parent, err = parentAuthor(ctx, s.env.DB, in.ParentID, c); err != nil {
			return Message{}, false, fault.Wrap(err, "send message")
		} else if parent == 0 {
			return Message{}, false, errBadParent
		}
	}
	// A body without a name mentioned costs no query here.
	mentions, err := mention.Resolve(ctx, s.env.DB, c, body)
	if err != nil {
		return Message{}, false, fault.Wrap(err, "send message")
	}
	var attachments []Attachment
	if len(in.AttachmentIDs) > 0 {
		if attachments, err = s.files.Attachable(ctx, caller, in.AttachmentIDs); err != nil {
			return Message{}, false, err
		}
	}
	m := Message{ID: s.env.IDs.Next(), ConversationID: c, UserID: caller, ParentID: in.ParentID, Body: body,
		CreatedAt: s.env.Now().UTC().Truncate(time.Microsecond), Mentions: mentions, ClientMsgID: in.ClientMsgID,
		Attachments: attachments}
	ev, res, first, err := s.commitSend(ctx, m)
	if err != nil {
		return Message{}, false, err
	}
	if !first {
		// Another request with the same key committed first.
		m, ok, err := s.replay(ctx, caller, c, in.ClientMsgID)
		if err == nil && !ok {
			err = fault.New(fault.Internal, "idempotency key without its message")
		}
		return m, false, err
	}
	s.env.Apply(ctx, conversation.Effects{Conversation: c, Invalidate: Refs(c), Events: []eventlog.Event{ev}})
	s.notify(ctx, m, res, parent)
	return m, true, nil
}

// notify sends the notifications of committed message m (res: what its
// insert returned; parent: the author of the thread root it replies to).
// A message that concerns nobody in particular costs nothing here.
func (s *Service) notify(ctx context.Context, m Message, res *sendResult, parent id.ID) {
	dm, err := res.dmUsers()
	if err != nil {
		s.env.Log.WarnContext(ctx, "notifications not sent", "conversation_id", m.ConversationID.String(), "err", err)
		return
	}
	d := mention.Delivery{Conversation: m.ConversationID, Author: m.UserID, Mentions: m.Mentions, DMUsers: dm,
		ParentAuthor: parent}
	if d.Quiet() {
		return
	}
	d.Data = Event(m)
	s.notifier.After(ctx, d)
}

// commitSend writes m and its message.created event in one round trip: the
// statements go as one pipelined batch without BEGIN, which Postgres runs
// as one implicit transaction committed at the batch's end (or rolled back
// whole at its first error). The conversation row, locked for the event's
// seq by the batch's last statement, is so held for no network round trip,
// only until the commit is durable. It answers false, committing nothing,
// when m's idempotency key was taken, and conversation_archived when the
// conversation is archived (the event's insert refuses it).
func (s *Service) commitSend(ctx context.Context, m Message) (eventlog.Event, *sendResult, bool, error) {
	b := &pgx.Batch{}
	res := &sendResult{}
	if err := queueSend(b, m, res); err != nil {
		return eventlog.Event{}, nil, false, fault.Wrap(err, "send message")
	}
	d, err := s.env.Outbox.Queue(b, eventlog.Spec{Conversation: m.ConversationID, Type: event.MessageCreated,
		Data: Event(m), Activity: true})
	if err != nil {
		return eventlog.Event{}, nil, false, fault.Wrap(err, "send message")
	}
	if err := s.env.DB.SendBatch(ctx, b).Close(); err != nil {
		switch {
		case keyTaken(err):
			return eventlog.Event{}, nil, false, nil
		case eventlog.Archived(err):
			return eventlog.Event{}, nil, false, eventlog.ErrArchived
		case attachRefused(err):
			return eventlog.Event{}, nil, false, errAttachTaken
		}
		return eventlog.Event{}, nil, false, fault.Wrap(err, "send message")
	}
	ev, err := d.Event()
	if err != nil {
		return eventlog.Event{}, nil, false, fault.Wrap(err, "send message")
	}
	return ev, res, true, nil
}

// replay finds the message of an earlier send with the same key.
func (s *Service) replay(ctx context.Context, caller, c id.ID, key string) (Message, bool, error) {
	mid, ok, err := sentBefore(ctx, s.env.DB, caller, key)
	if err != nil || !ok {
		return Message{}, false, wrap(err, "send message")
	}
	m, err := load(ctx, s.env.DB, mid)
	if err != nil {
		return Message{}, false, fault.Wrap(err, "send message")
	}
	if m.ConversationID != c {
		return Message{}, false, &fault.Error{Code: fault.Conflict, Field: "client_msg_id",
			Message: "client_msg_id was used for a message in another conversation"}
	}
	m.ClientMsgID = key
	return m, true, nil
}

func wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	return fault.Wrap(err, op)
}

// Get reads message mid and caller's access to its conversation; a message
// of a conversation caller may not see is not_found.
func (s *Service) Get(ctx context.Context, caller, mid id.ID) (Message, conversation.Access, error) {
	m, err := load(ctx, s.env.DB, mid)
	if errors.Is(err, errNoRow) {
		return Message{}, conversation.Access{}, errNoMessage
	}
	if err != nil {
		return Message{}, conversation.Access{}, fault.Wrap(err, "read message")
	}
	_, a, err := s.env.Access(ctx, m.ConversationID, caller)
	if err != nil {
		if _, ok := fault.As(err); ok {
			return Message{}, conversation.Access{}, errNoMessage
		}
		return Message{}, conversation.Access{}, fault.Wrap(err, "read message")
	}
	if err := CanRead(a); err != nil {
		return Message{}, conversation.Access{}, err
	}
	return m, a, nil
}

// Edit replaces the body of caller's message mid.
func (s *Service) Edit(ctx context.Context, caller, mid id.ID, body string) (Message, error) {
	b, err := cleanBody(body, false)
	if err != nil {
		return Message{}, err
	}
	m, a, err := s.Get(ctx, caller, mid)
	if err != nil {
		return Message{}, err
	}
	if err := CanEdit(a, m, caller); err != nil {
		return Message{}, err
	}
	// An edit's mentions are the new body's; an edit notifies nobody.
	mentions, err := mention.Resolve(ctx, s.env.DB, m.ConversationID, b)
	if err != nil {
		return Message{}, fault.Wrap(err, "edit message")
	}
	return s.change(ctx, m, event.MessageUpdated, func(tx pgx.Tx) (bool, error) {
		ok, err := edit(ctx, tx, mid, b, mentions, s.env.Now())
		if err == nil && !ok {
			err = errDeleted
		}
		return ok, err
	})
}

// Delete soft-deletes message mid. Deleting a deleted message changes
// nothing and is not an error.
func (s *Service) Delete(ctx context.Context, caller, mid id.ID) error {
	m, a, err := s.Get(ctx, caller, mid)
	if err != nil {
		return err
	}
	if err := CanDelete(a, m, caller); err != nil {
		return err
	}
	if m.Deleted() {
		return nil
	}
	var purge func()
	_, err = s.change(ctx, m, event.MessageDeleted, func(tx pgx.Tx) (bool, error) {
		ok, err := softDelete(ctx, tx, mid, s.env.Now())
		if err != nil || !ok {
			return ok, err
		}
		if len(m.Attachments) > 0 {
			if purge, err = s.files.Detach(ctx, tx, mid); err != nil {
				return false, err
			}
		}
		// The message's id is drawn before its event's, so its creation
		// time, less a margin for other api nodes' clocks, bounds the
		// events that can hold its body.
		return true, eventlog.ScrubBody(ctx, tx, m.ConversationID, mid, id.Floor(m.CreatedAt.Add(-time.Minute)))
	})
	if err == nil && purge != nil {
		purge()
	}
	return err
}

// change runs write in a transaction and, when it changed the row, records
// typ with the message as it now reads, then applies the effects.
func (s *Service) change(ctx context.Context, m Message, typ string, write func(pgx.Tx) (bool, error)) (Message, error) {
	var evs []eventlog.Event
	err := s.env.InTx(ctx, typ, func(tx pgx.Tx) error {
		changed, err := write(tx)
		if err != nil || !changed {
			return err
		}
		if m, err = load(ctx, tx, m.ID); err != nil {
			return err
		}
		evs, err = s.env.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: m.ConversationID, Type: typ, Data: Event(m)})
		return err
	})
	if err != nil {
		return Message{}, err
	}
	s.env.Apply(ctx, conversation.Effects{Conversation: m.ConversationID, Invalidate: Refs(m.ConversationID), Events: evs})
	return m, nil
}

// IdempotencyKeyTTL is how long a client_msg_id is remembered at least.
const IdempotencyKeyTTL = 24 * time.Hour

// TrimIdempotencyKeys forgets client_msg_ids older than IdempotencyKeyTTL
// and returns how many. The worker schedules it.
func TrimIdempotencyKeys(ctx context.Context, db *pgxpool.Pool, now time.Time) (int64, error) {
	return trimKeys(ctx, db, now.Add(-IdempotencyKeyTTL))
}
