// Package block is blocking: a person blocks another (POST
// /me/blocks/:user_id), and the blocked person can then no longer open a DM
// with them, call them, or add them to a group or channel. Blocking is one
// way (the blocker may still do all of that) and invisible to the blocked
// person: their refused requests answer exactly as for a person who is not
// there — "no such user" for a DM or a member to add, busy for a call —
// and nothing (no event, no list) tells them. The blocker's client collapses
// the blocked person's messages in conversations they share (the api sends
// them as it sends any message; hiding them is the reader's choice).
//
// This package keeps the blocks and serves the blocker's list; the refusals
// are made where the requests are served (api/conversation, api/call), with
// Exists or, inside a statement, the blocks table itself.
package block

import (
	"context"
	"errors"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
)

// JSON is a block as its blocker sees it (REST only; blocks have no
// events).
type JSON struct {
	UserID    id.ID     `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	User      user.JSON `json:"user"`
}

func render(u user.User, at time.Time) JSON {
	return JSON{UserID: u.ID, CreatedAt: at.UTC().Truncate(time.Millisecond), User: user.Render(u)}
}

// Service is the blocks' domain.
type Service struct {
	db      *pgxpool.Pool
	limiter *ratelimit.Limiter
	rule    ratelimit.Rule
	now     func() time.Time
}

// New returns a Service on db, limiting blocks and unblocks by rule.
func New(db *pgxpool.Pool, limiter *ratelimit.Limiter, rule ratelimit.Rule, now func() time.Time) *Service {
	return &Service{db: db, limiter: limiter, rule: rule, now: now}
}

var errNoUser = &fault.Error{Code: fault.NotFound, Field: "user_id", Message: "no such user"}

// Block makes caller block target; false when they had already.
func (s *Service) Block(ctx context.Context, caller, target id.ID) (JSON, bool, error) {
	if target == caller {
		return JSON{}, false, fault.Invalid("user_id", "you cannot block yourself")
	}
	if err := s.limiter.Allow(ctx, s.rule, caller.String()); err != nil {
		return JSON{}, false, err
	}
	u, at, created, err := insert(ctx, s.db, caller, target, s.now())
	if errors.Is(err, errUnknownUser) {
		return JSON{}, false, errNoUser
	}
	if err != nil {
		return JSON{}, false, fault.Wrap(err, "block user")
	}
	return render(u, at), created, nil
}

// Unblock ends caller's block of target; false when there was none.
func (s *Service) Unblock(ctx context.Context, caller, target id.ID) (bool, error) {
	if err := s.limiter.Allow(ctx, s.rule, caller.String()); err != nil {
		return false, err
	}
	ok, err := remove(ctx, s.db, caller, target)
	if err != nil {
		return false, fault.Wrap(err, "unblock user")
	}
	return ok, nil
}

// Paging of the list.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// List returns a page of the people caller blocks, by user id, after the
// cursor (a user id; "" for the first page).
func (s *Service) List(ctx context.Context, caller id.ID, cursor string, limit int) ([]JSON, *string, error) {
	var after id.ID
	if cursor != "" {
		var err error
		if after, err = id.Parse(cursor); err != nil {
			return nil, nil, fault.Invalid("cursor", "cursor must be a next_cursor this endpoint returned")
		}
	}
	switch {
	case limit <= 0:
		limit = defaultLimit
	case limit > maxLimit:
		limit = maxLimit
	}
	out, err := list(ctx, s.db, caller, after, limit+1)
	if err != nil {
		return nil, nil, fault.Wrap(err, "list blocks")
	}
	var next *string
	if len(out) > limit {
		out = out[:limit]
		n := out[limit-1].UserID.String()
		next = &n
	}
	return out, next, nil
}
