// Package reaction is emoji reactions on messages: one per (message, user,
// emoji); adding one twice, or removing one that is not there, changes
// nothing and says so with 200 / 204 rather than an error. Messages carry
// the aggregate (message package); this package writes it and emits
// reaction.added / reaction.removed.
package reaction

import (
	"context"
	"fmt"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
)

// JSON is the reaction resource: the REST answer of an add and the data of
// reaction.added / reaction.removed. Count is the emoji's count on the
// message after the change.
type JSON struct {
	MessageID id.ID  `json:"message_id"`
	Emoji     string `json:"emoji"`
	UserID    id.ID  `json:"user_id"`
	Count     int    `json:"count"`
}

// Service is the reactions' domain.
type Service struct {
	env      *conversation.Env
	messages *message.Service
	caps     Caps
}

// Caps bound the reactions of one message, so that no account can grow a
// message (and every page that shows it, and every event) without limit.
type Caps struct {
	// PerMessage is how many distinct emoji one message may carry
	// (REACTIONS_PER_MESSAGE). Adding an emoji already on it is always
	// allowed.
	PerMessage int
	// PerUser is how many reactions one user may put on one message
	// (REACTIONS_PER_USER_PER_MESSAGE).
	PerUser int
}

// DefaultCaps: 50 distinct emoji a message, Slack's number; 20 of one
// user's, so no single account can fill a message's places alone.
func DefaultCaps() Caps { return Caps{PerMessage: 50, PerUser: 20} }

// New returns a Service reading messages through messages.
func New(env *conversation.Env, messages *message.Service, caps Caps) *Service {
	return &Service{env: env, messages: messages, caps: caps}
}

// Add puts caller's emoji on message mid; false when it was there already.
// Over a cap it is 409 too_many_reactions, with the cap as "limit".
func (s *Service) Add(ctx context.Context, caller, mid id.ID, emoji string) (JSON, bool, error) {
	return s.change(ctx, caller, mid, emoji, event.ReactionAdded, func(tx pgx.Tx) (bool, error) {
		r, err := add(ctx, tx, mid, caller, emoji, s.env.Now(), s.caps)
		switch {
		case err != nil || r.added || r.had:
			return r.added, err
		case !r.known && r.emojis >= s.caps.PerMessage:
			return false, tooMany(s.caps.PerMessage, "message", "this message has %d different reactions, the most it may have")
		case r.mine >= s.caps.PerUser:
			return false, tooMany(s.caps.PerUser, "user", "you have %d reactions on this message, the most one person may have")
		}
		return false, nil
	})
}

func tooMany(limit int, scope, format string) error {
	return &fault.Error{Code: fault.TooManyReactions, Field: "emoji", Message: fmt.Sprintf(format, limit),
		Extra: map[string]any{"limit": limit, "scope": scope}}
}

// Remove takes caller's emoji off message mid; false when it was not there.
func (s *Service) Remove(ctx context.Context, caller, mid id.ID, emoji string) (bool, error) {
	_, changed, err := s.change(ctx, caller, mid, emoji, event.ReactionRemoved, func(tx pgx.Tx) (bool, error) {
		return remove(ctx, tx, mid, caller, emoji)
	})
	return changed, err
}

func (s *Service) change(ctx context.Context, caller, mid id.ID, emoji, typ string, write func(pgx.Tx) (bool, error)) (JSON, bool, error) {
	if err := CheckEmoji(emoji); err != nil {
		return JSON{}, false, err
	}
	m, a, err := s.messages.Get(ctx, caller, mid)
	if err != nil {
		return JSON{}, false, err
	}
	if err := CanReact(a, m); err != nil {
		return JSON{}, false, err
	}
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.Reactions, caller.String()); err != nil {
		return JSON{}, false, err
	}
	r := JSON{MessageID: mid, Emoji: emoji, UserID: caller}
	var changed bool
	var evs []eventlog.Event
	err = s.env.InTx(ctx, typ, func(tx pgx.Tx) error {
		if changed, err = write(tx); err != nil {
			return err
		}
		if r.Count, err = count(ctx, tx, mid, emoji); err != nil || !changed {
			return err
		}
		evs, err = s.env.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: m.ConversationID, Type: typ, Data: r})
		return err
	})
	if err != nil {
		return JSON{}, false, err
	}
	if changed {
		s.env.Apply(ctx, conversation.Effects{Conversation: m.ConversationID,
			Invalidate: message.Refs(m.ConversationID), Events: evs})
	}
	return r, changed, nil
}
