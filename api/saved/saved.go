// Package saved is each person's saved messages: a private list of
// messages one keeps to come back to, which nobody else sees and no event
// announces. Saving a saved message, or unsaving one that is not, changes
// nothing and says so with 200 / 204 rather than an error.
//
// The list shows only what its owner may still read: a message deleted
// since, or one of a group or DM they have left, drops out of it (its row
// stays, and comes back with a renewed membership).
package saved

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/shared/id"
)

// Saved is a row of saved_messages.
type Saved struct {
	// ID orders one person's saves (newest first) and is the list's
	// cursor; it is drawn when the message is saved.
	ID             id.ID
	UserID         id.ID
	MessageID      id.ID
	ConversationID id.ID
	SavedAt        time.Time
}

// JSON is the saved-message resource. Message is the message as the
// timeline renders it for its owner (list answers and the save's answer).
type JSON struct {
	MessageID      id.ID     `json:"message_id"`
	ConversationID id.ID     `json:"conversation_id"`
	SavedAt        time.Time `json:"saved_at"`
	Message        any       `json:"message"`
}

func render(s Saved, m any) JSON {
	return JSON{MessageID: s.MessageID, ConversationID: s.ConversationID,
		SavedAt: s.SavedAt.UTC().Truncate(time.Millisecond), Message: m}
}

// Service is the saved messages' domain.
type Service struct {
	env      *conversation.Env
	messages *message.Service
}

// New returns a Service reading messages through messages.
func New(env *conversation.Env, messages *message.Service) *Service {
	return &Service{env: env, messages: messages}
}

var errDeleted = fault.New(fault.Conflict, "the message is deleted")

// Save adds message mid to caller's saved messages; false when it was
// there already. Only a message caller may read can be saved (not_found
// otherwise), and not a deleted one.
func (s *Service) Save(ctx context.Context, caller, mid id.ID) (JSON, bool, error) {
	m, _, err := s.messages.Get(ctx, caller, mid)
	if err != nil {
		return JSON{}, false, err
	}
	if m.Deleted() {
		return JSON{}, false, errDeleted
	}
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.Saves, caller.String()); err != nil {
		return JSON{}, false, err
	}
	sv, created, err := insert(ctx, s.env.DB, Saved{ID: s.env.IDs.Next(), UserID: caller, MessageID: mid,
		ConversationID: m.ConversationID, SavedAt: s.env.Now()})
	if err != nil {
		return JSON{}, false, fault.Wrap(err, "save message")
	}
	return render(sv, message.For(m, caller)), created, nil
}

// Unsave takes message mid off caller's saved messages; false when it was
// not there. It reads nothing of the message: one's own list is one's own,
// whatever became of the message.
func (s *Service) Unsave(ctx context.Context, caller, mid id.ID) (bool, error) {
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.Saves, caller.String()); err != nil {
		return false, err
	}
	ok, err := remove(ctx, s.env.DB, caller, mid)
	if err != nil {
		return false, fault.Wrap(err, "unsave message")
	}
	return ok, nil
}

// List returns a page of caller's saved messages, newest save first, after
// the cursor (a save id; "" for the first page).
func (s *Service) List(ctx context.Context, caller id.ID, cursor string, limit int) (conversation.Page[JSON], error) {
	before, limit, err := message.AttachedArgs(cursor, limit)
	if err != nil {
		return conversation.Page[JSON]{}, err
	}
	rows, err := list(ctx, s.env.DB, caller, before, limit+1)
	if err != nil {
		return conversation.Page[JSON]{}, fault.Wrap(err, "list saved messages")
	}
	page, err := message.AttachedPage(ctx, s.messages, caller, rows, limit,
		func(r Saved) id.ID { return r.ID }, func(r Saved) id.ID { return r.MessageID }, render)
	if err != nil {
		return conversation.Page[JSON]{}, fault.Wrap(err, "list saved messages")
	}
	return page, nil
}
