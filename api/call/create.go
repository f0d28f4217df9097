package call

import (
	"context"

	"github.com/chatterly/chatterly/api/block"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// NewCall is a request to start a call: to a user (CalleeID) or in a DM
// (ConversationID), exactly one of them.
type NewCall struct {
	CalleeID       id.ID
	ConversationID id.ID
	Media          Media
}

// Create starts a call from caller. Every attempt is counted against the
// caller's limits first (per caller, then per caller and callee, once the
// callee is known), before anything is written. It finds or creates the DM when given
// a callee, refuses with busy when either user is in a live call, and in
// one transaction inserts the call in calling, records call.incoming in
// the DM's log and enqueues the missed-call job for the ring timeout: the
// job can never be lost between the commit and the queue.
func (s *Service) Create(ctx context.Context, caller id.ID, req NewCall) (Call, error) {
	if req.Media != Audio && req.Media != Video {
		return Call{}, fault.Invalid("media", `media must be "audio" or "video"`)
	}
	if err := s.Limiter.Allow(ctx, s.Limits.PerCaller, caller.String()); err != nil {
		return Call{}, err
	}
	conv, callee, err := s.target(ctx, caller, req)
	if err != nil {
		return Call{}, err
	}
	now := s.Now()
	c := Call{ID: s.IDs.Next(), ConversationID: conv, CallerID: caller, CalleeID: callee,
		Media: req.Media, Status: Calling, CreatedAt: now}
	var ev eventlog.Event
	err = s.inTx(ctx, func(tx pgx.Tx, st store) error {
		if err := st.lockUsers(ctx, caller, callee); err != nil {
			return err
		}
		busy, err := st.busy(ctx, caller, callee)
		if err != nil {
			return err
		}
		if busy != 0 {
			return busyError(busy, caller)
		}
		if err := st.insert(ctx, c); err != nil {
			return err
		}
		if ev, err = s.record(ctx, tx, c); err != nil {
			return err
		}
		_, err = s.Jobs.InsertTx(ctx, tx, MissedArgs{CallID: c.ID},
			&river.InsertOpts{ScheduledAt: now.Add(s.RingTimeout)})
		return err
	})
	if _, ok := fault.As(err); ok {
		return Call{}, err
	}
	if err != nil {
		return Call{}, fault.Wrap(err, "create call")
	}
	s.Log.InfoContext(ctx, "call created", "call_id", c.ID.String(), "conversation_id", conv.String(),
		"caller_id", caller.String(), "callee_id", callee.String())
	s.announce(ctx, c, ev)
	return c, nil
}

// busyError is the 409 busy for a call when user busy (the caller or the
// callee) is in a live call.
func busyError(busy, caller id.ID) error {
	who := "the callee is"
	if busy == caller {
		who = "you are"
	}
	return &fault.Error{Code: fault.Busy, Message: who + " already in a call",
		Extra: map[string]any{"user_id": busy.String()}}
}

// reachable refuses a call from caller to a callee who blocks them with
// the callee's busy, word for word: the caller cannot tell a block from a
// person on another call (api/block). It is asked after the limits are
// spent, as a call to a busy callee spends them.
func (s *Service) reachable(ctx context.Context, caller, callee id.ID) error {
	blocked, err := block.Exists(ctx, s.DB, callee, caller)
	if err != nil {
		return fault.Wrap(err, "create call")
	}
	if blocked {
		return busyError(callee, caller)
	}
	return nil
}

// allowPair counts a call attempt from caller to callee. Like the
// per-caller limit it is spent before anything is written (the DM a first
// call makes included), so a refused attempt leaves no trace.
func (s *Service) allowPair(ctx context.Context, caller, callee id.ID) error {
	return s.Limiter.Allow(ctx, s.Limits.PerPair, caller.String()+">"+callee.String())
}

// target resolves the DM and the callee of req.
func (s *Service) target(ctx context.Context, caller id.ID, req NewCall) (conv, callee id.ID, err error) {
	switch {
	case req.CalleeID != 0 && req.ConversationID != 0:
		return 0, 0, fault.Invalid("callee_id", "give callee_id or conversation_id, not both")
	case req.CalleeID != 0:
		if req.CalleeID == caller {
			return 0, 0, fault.Invalid("callee_id", "you cannot call yourself")
		}
		ok, err := s.st.userExists(ctx, req.CalleeID)
		if err != nil {
			return 0, 0, fault.Wrap(err, "create call")
		}
		if !ok {
			return 0, 0, &fault.Error{Code: fault.NotFound, Field: "callee_id", Message: "no such user"}
		}
		if err := s.allowPair(ctx, caller, req.CalleeID); err != nil {
			return 0, 0, err
		}
		if err := s.reachable(ctx, caller, req.CalleeID); err != nil {
			return 0, 0, err
		}
		conv, err := s.DMs.FindOrCreateDM(ctx, caller, req.CalleeID)
		if err != nil {
			if _, ok := fault.As(err); ok {
				return 0, 0, err
			}
			return 0, 0, fault.Wrap(err, "find or create the DM")
		}
		return conv, req.CalleeID, nil
	case req.ConversationID != 0:
		kind, members, ok, err := s.st.conversation(ctx, req.ConversationID)
		if err != nil {
			return 0, 0, fault.Wrap(err, "create call")
		}
		in := false
		for _, m := range members {
			in = in || m == caller
		}
		if !ok || !in {
			return 0, 0, &fault.Error{Code: fault.NotFound, Field: "conversation_id", Message: "no such conversation"}
		}
		if kind != "dm" {
			return 0, 0, fault.Invalid("conversation_id", "calls are made in a DM; this conversation is a "+kind)
		}
		if len(members) != 2 {
			return 0, 0, fault.Invalid("conversation_id", "calls are made in a DM with another user")
		}
		for _, m := range members {
			if m != caller {
				callee = m
			}
		}
		if err := s.allowPair(ctx, caller, callee); err != nil {
			return 0, 0, err
		}
		return req.ConversationID, callee, s.reachable(ctx, caller, callee)
	default:
		return 0, 0, fault.Invalid("callee_id", "give callee_id or conversation_id")
	}
}
