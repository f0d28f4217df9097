// Package pin is the pinned messages of a conversation: any member pins a
// message for everyone in it, and whoever may read the conversation sees
// its pins. One pin per message; pinning a pinned message, or unpinning
// one that is not, changes nothing and says so with 200 / 204 rather than
// an error. Each change is recorded in the conversation's log (pin.added,
// pin.removed) in its own transaction and published after commit, like
// every event of the log.
//
// A pin outlives nothing it points at: a deleted message's pin is no longer
// listed (its row stays, so a tombstone never comes back as a pin), and a
// deleted message cannot be pinned.
package pin

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
)

// Pin is a row of pins.
type Pin struct {
	// ID orders a conversation's pins (newest first) and is the list's
	// cursor; it is drawn when the message is pinned.
	ID             id.ID
	ConversationID id.ID
	MessageID      id.ID
	PinnedBy       id.ID
	PinnedAt       time.Time
}

// JSON is the pin resource: the REST answer of a pin and the data of
// pin.added / pin.removed. Message is added to list answers only (the
// message as the timeline renders it for the reader), never to events.
type JSON struct {
	ConversationID id.ID     `json:"conversation_id"`
	MessageID      id.ID     `json:"message_id"`
	PinnedBy       id.ID     `json:"pinned_by"`
	PinnedAt       time.Time `json:"pinned_at"`
	Message        any       `json:"message,omitempty"`
}

// Render is p's resource, without the message.
func Render(p Pin) JSON {
	return JSON{ConversationID: p.ConversationID, MessageID: p.MessageID, PinnedBy: p.PinnedBy,
		PinnedAt: p.PinnedAt.UTC().Truncate(time.Millisecond)}
}

// Service is the pins' domain.
type Service struct {
	env      *conversation.Env
	messages *message.Service
}

// New returns a Service reading messages through messages.
func New(env *conversation.Env, messages *message.Service) *Service {
	return &Service{env: env, messages: messages}
}

// Pin pins message mid for its conversation on behalf of caller; false
// when it was pinned already (the existing pin is returned).
func (s *Service) Pin(ctx context.Context, caller, mid id.ID) (JSON, bool, error) {
	m, err := s.authorize(ctx, caller, mid)
	if err != nil {
		return JSON{}, false, err
	}
	if m.Deleted() {
		return JSON{}, false, errDeleted
	}
	p := Pin{ID: s.env.IDs.Next(), ConversationID: m.ConversationID, MessageID: mid, PinnedBy: caller, PinnedAt: s.env.Now()}
	var evs []eventlog.Event
	created := false
	err = s.env.InTx(ctx, "pin message", func(tx pgx.Tx) error {
		var err error
		if p, created, err = insert(ctx, tx, p); err != nil || !created {
			return err
		}
		evs, err = s.env.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: p.ConversationID, Type: event.PinAdded, Data: Render(p)})
		return err
	})
	if err != nil {
		return JSON{}, false, err
	}
	if created {
		s.env.Apply(ctx, conversation.Effects{Conversation: p.ConversationID, Events: evs})
	}
	return Render(p), created, nil
}

// Unpin takes the pin off message mid; false when there was none.
func (s *Service) Unpin(ctx context.Context, caller, mid id.ID) (bool, error) {
	if _, err := s.authorize(ctx, caller, mid); err != nil {
		return false, err
	}
	var evs []eventlog.Event
	var p Pin
	removed := false
	err := s.env.InTx(ctx, "unpin message", func(tx pgx.Tx) error {
		var err error
		if p, removed, err = remove(ctx, tx, mid); err != nil || !removed {
			return err
		}
		evs, err = s.env.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: p.ConversationID, Type: event.PinRemoved, Data: Render(p)})
		return err
	})
	if err != nil {
		return false, err
	}
	if removed {
		s.env.Apply(ctx, conversation.Effects{Conversation: p.ConversationID, Events: evs})
	}
	return removed, nil
}

// authorize reads message mid for caller (not_found when they may not see
// it), checks they may change its conversation's pins and spends their
// pin limit.
func (s *Service) authorize(ctx context.Context, caller, mid id.ID) (message.Message, error) {
	m, a, err := s.messages.Get(ctx, caller, mid)
	if err != nil {
		return message.Message{}, err
	}
	if err := CanPin(a); err != nil {
		return message.Message{}, err
	}
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.Pins, caller.String()); err != nil {
		return message.Message{}, err
	}
	return m, nil
}

// List returns a page of c's pins, newest first, each with its message as
// caller reads it, after the cursor (a pin id; "" for the first page).
func (s *Service) List(ctx context.Context, caller, c id.ID, cursor string, limit int) (conversation.Page[JSON], error) {
	a, err := s.env.Participant(ctx, c, caller)
	if err != nil {
		return conversation.Page[JSON]{}, fault.Wrap(err, "list pins")
	}
	if err := CanList(a); err != nil {
		return conversation.Page[JSON]{}, err
	}
	before, limit, err := message.AttachedArgs(cursor, limit)
	if err != nil {
		return conversation.Page[JSON]{}, err
	}
	ps, err := list(ctx, s.env.DB, c, before, limit+1)
	if err != nil {
		return conversation.Page[JSON]{}, fault.Wrap(err, "list pins")
	}
	page, err := message.AttachedPage(ctx, s.messages, caller, ps, limit,
		func(p Pin) id.ID { return p.ID }, func(p Pin) id.ID { return p.MessageID },
		func(p Pin, m any) JSON { j := Render(p); j.Message = m; return j })
	if err != nil {
		return conversation.Page[JSON]{}, fault.Wrap(err, "list pins")
	}
	return page, nil
}
