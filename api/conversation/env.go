package conversation

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/replica"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Env is what every conversation-scoped component (conversations,
// messages, reactions, read state) is built from. The api's wiring fills it
// once; components keep a pointer.
type Env struct {
	// DB is the primary. Replica runs the reads that may lag: on the
	// replica when it has what the reader wrote, else on DB.
	DB      *pgxpool.Pool
	Replica *replica.Router
	Keys    rkey.Space
	IDs     *id.Generator
	Now     func() time.Time
	Log     *slog.Logger

	Outbox    *eventlog.Outbox
	Publisher *eventlog.Publisher
	Members   *membership.Sets
	Cache     *cache.Cache
	Limiter   *ratelimit.Limiter
	Limits    Limits
	// UserEvents appends to users' own topics (read markers).
	UserEvents *event.Appender
}

// Limits are the per-user write limits.
type Limits struct {
	Conversations ratelimit.Rule
	Messages      ratelimit.Rule
	Reactions     ratelimit.Rule
	UserSearch    ratelimit.Rule
	MessageSearch ratelimit.Rule
	// Pins counts pins and unpins; Saves a person's saves and unsaves of
	// messages; Blocks their blocks and unblocks.
	Pins   ratelimit.Rule
	Saves  ratelimit.Rule
	Blocks ratelimit.Rule
}

// DefaultLimits are limits a busy person never meets, per user per minute.
func DefaultLimits() Limits {
	return Limits{
		Conversations: ratelimit.Rule{Name: "conversations", Max: 60, Window: time.Minute},
		Messages:      ratelimit.Rule{Name: "messages", Max: 300, Window: time.Minute},
		Reactions:     ratelimit.Rule{Name: "reactions", Max: 300, Window: time.Minute},
		UserSearch:    ratelimit.Rule{Name: "user_search", Max: 120, Window: time.Minute},
		MessageSearch: ratelimit.Rule{Name: "message_search", Max: 60, Window: time.Minute},
		Pins:          ratelimit.Rule{Name: "pins", Max: 60, Window: time.Minute},
		Saves:         ratelimit.Rule{Name: "saves", Max: 120, Window: time.Minute},
		Blocks:        ratelimit.Rule{Name: "blocks", Max: 30, Window: time.Minute},
	}
}

// Cache kinds of this package. Both hold viewer-neutral JSON.
const (
	// kindConversation is the conversation resource, by conversation id.
	kindConversation = "conv"
	// kindMemberOf is a user's memberships (conversation, role, read
	// marker), by user id: the user's own data, shared by their devices.
	kindMemberOf = "memberof"
)

// ConversationRef is the cache entry of c's resource.
func ConversationRef(c id.ID) cache.Ref { return cache.Ref{Kind: kindConversation, ID: c.String()} }

// MemberOfRef is the cache entry of u's memberships; whatever changes u's
// memberships or read markers invalidates it.
func MemberOfRef(u id.ID) cache.Ref { return cache.Ref{Kind: kindMemberOf, ID: u.String()} }

// Effects are what a committed write does outside Postgres.
type Effects struct {
	Conversation id.ID
	// Joined and Left change the member set.
	Joined, Left []id.ID
	// Invalidate lists the cache entries the write changed.
	Invalidate []cache.Ref
	// Events are the write's committed events, in seq order.
	Events []eventlog.Event
}

// Apply carries out fx after commit, in the order the edge relies on:
// member set, caches, then the stream. It never fails the write (which is
// committed): failures are logged and repaired elsewhere. When the member set
// cannot be changed, the events are left unpublished, so the relay, whose
// hook rebuilds the set before it republishes a member event, publishes
// them after the repair and never before.
func (e *Env) Apply(ctx context.Context, fx Effects) {
	ctx = context.WithoutCancel(ctx)
	setOK := true
	if len(fx.Joined) > 0 {
		if err := e.Members.Add(ctx, fx.Conversation, fx.Joined...); err != nil {
			setOK = false
			e.Log.WarnContext(ctx, "member set not updated; the relay will repair it", "conversation_id", fx.Conversation.String(), "err", err)
		}
	}
	if len(fx.Left) > 0 {
		if err := e.Members.Remove(ctx, fx.Conversation, fx.Left...); err != nil {
			setOK = false
			e.Log.WarnContext(ctx, "member set not updated; the relay will repair it", "conversation_id", fx.Conversation.String(), "err", err)
		}
	}
	if err := e.Cache.Invalidate(ctx, fx.Invalidate...); err != nil {
		e.Log.WarnContext(ctx, "cache not invalidated; entries expire by TTL", "conversation_id", fx.Conversation.String(), "err", err)
	}
	if setOK {
		e.Publisher.Publish(ctx, fx.Events...)
	}
}

// Access reads from the primary what user is to conversation c, with c.
// A conversation that does not exist is not_found.
func (e *Env) Access(ctx context.Context, c, user id.ID) (Conversation, Access, error) {
	return loadAccess(ctx, e.DB, c, user)
}

// Participant is the fast access check of the hot paths (posting,
// reacting, reading a timeline): the member set, read through the client
// cache, says whether user is a member, without Postgres. A member is
// reported with Role Member whatever their rank, so use the answer only
// with policies that ask membership (CanSee, CanParticipate). A non-member
// costs the conversation's cached resource, to tell 403 from 404.
func (e *Env) Participant(ctx context.Context, c, user id.ID) (Access, error) {
	ok, err := e.Members.Check(ctx, c, user)
	if err != nil {
		// The member set is an optimization: fall back to Postgres.
		_, a, err := e.Access(ctx, c, user)
		return a, err
	}
	if ok {
		return Access{Role: Member}, nil
	}
	conv, err := e.Resource(ctx, c)
	if errors.Is(err, errNotFound) {
		return Access{}, nil
	}
	if err != nil {
		return Access{}, err
	}
	return Access{Kind: conv.Kind}, nil
}

// Resource returns c's resource through the cache.
func (e *Env) Resource(ctx context.Context, c id.ID) (JSON, error) {
	b, err := e.Cache.Get(ctx, ConversationRef(c), func(ctx context.Context) ([]byte, error) {
		conv, err := loadConversation(ctx, e.DB, c)
		if err != nil {
			return nil, err
		}
		return marshal(Render(conv))
	})
	if err != nil {
		return JSON{}, err
	}
	var j JSON
	if err := unmarshal([]byte(b), &j); err != nil {
		return JSON{}, err
	}
	return j, nil
}

// InTx runs fn in a transaction on the primary; fault errors from fn pass
// through unchanged, others become internal errors naming op.
func (e *Env) InTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, e.DB, fn)
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	return fault.Wrap(err, op)
}
