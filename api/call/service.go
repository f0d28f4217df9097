package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DMs finds or creates the DM of two users and returns its id; the
// conversation package implements it (with its members, member sets and
// events).
type DMs interface {
	FindOrCreateDM(ctx context.Context, a, b id.ID) (id.ID, error)
}

// JobInserter enqueues a River job inside the caller's transaction
// (*river.Client[pgx.Tx] is one).
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Deps is what a Service is built from. The api fills all of it; the
// worker, which only turns calls missed, leaves DMs and Jobs nil.
type Deps struct {
	DB  *pgxpool.Pool
	IDs *id.Generator
	// Outbox records each move's event in the DM's log, in the move's
	// transaction; Publisher appends it to the stream after commit.
	Outbox    *eventlog.Outbox
	Publisher *eventlog.Publisher
	// Effects keeps the participant set and the user-topic events.
	Effects *Effects
	DMs     DMs
	Jobs    JobInserter
	// RingTimeout is how long a call may stay unanswered before it is
	// missed (CALL_RING_TIMEOUT).
	RingTimeout time.Duration
	ICE         ICEConfig
	// Limiter counts call attempts against Limits (the worker leaves it nil).
	Limiter *ratelimit.Limiter
	Limits  Limits
	Now     func() time.Time
	Log     *slog.Logger
}

// Service runs the call lifecycle.
type Service struct {
	Deps
	st store
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{Deps: d, st: store{q: d.DB}}
}

// inTx runs fn in one transaction.
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx, st store) error) error {
	return pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error { return fn(tx, store{q: tx}) })
}

// Get returns call as user sees it: not_found unless user takes part.
func (s *Service) Get(ctx context.Context, user, call id.ID) (Call, error) {
	c, err := s.st.get(ctx, call)
	if errors.Is(err, errNoCall) || err == nil && !c.Participant(user) {
		return Call{}, errNotFound
	}
	if err != nil {
		return Call{}, fault.Wrap(err, "get call")
	}
	return c, nil
}

// errNotFound hides calls from users who are not their participants.
var errNotFound = fault.New(fault.NotFound, "no such call")

// record writes the event announcing c's new status in c's DM log, inside
// tx, and returns it for publishing after commit.
func (s *Service) record(ctx context.Context, tx pgx.Tx, c Call) (eventlog.Event, error) {
	evs, err := s.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: c.ConversationID, Type: eventOf(c.Status), Data: Render(c)})
	if err != nil {
		return eventlog.Event{}, err
	}
	return evs[0], nil
}

// announce runs after the commit of a move: the participant set and the
// user-topic events first, then the DM-log event. When Redis fails the
// DM-log event is left unpublished on purpose: the relay finds it after
// its grace period and, through RelayHook, repeats the set change and the
// user-topic events before it publishes it. So a committed move always
// reaches both participants, at least once.
func (s *Service) announce(ctx context.Context, c Call, ev eventlog.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Effects.Apply(ctx, c.ID, c.Status); err != nil {
		s.Log.WarnContext(ctx, "call effects failed; the relay will repeat them",
			"call_id", c.ID.String(), "status", string(c.Status), "err", err)
		return
	}
	s.Publisher.Publish(ctx, ev)
}

// move applies t to call for the participant by, checking first that by
// may make the move (a move by the system, the missed-call job, uses
// Miss). It returns the call after the move, or invalid_transition naming
// the status the call was found in.
func (s *Service) move(ctx context.Context, by id.ID, call id.ID, t transition) (Call, error) {
	c, err := s.Get(ctx, by, call)
	if err != nil {
		return Call{}, err
	}
	if err := authorize(c, by, t); err != nil {
		return Call{}, err
	}
	var ender *id.ID
	if t.to == Ended {
		ender = &by
	}
	var ev eventlog.Event
	moved := false
	err = s.inTx(ctx, func(tx pgx.Tx, st store) error {
		var err error
		if c, moved, err = st.move(ctx, call, t, s.Now(), ender, nil); err != nil || !moved {
			return err
		}
		ev, err = s.record(ctx, tx, c)
		return err
	})
	if err != nil {
		return Call{}, fault.Wrap(err, "move call")
	}
	if !moved {
		if c, err = s.st.get(ctx, call); err != nil {
			return Call{}, fault.Wrap(err, "move call")
		}
		return Call{}, invalidTransition(c.Status, t.to)
	}
	s.announce(ctx, c, ev)
	return c, nil
}

// invalidTransition is the 409 for a move the call's status does not
// allow; the problem's "call_status" member names the status found (not
// "status", which RFC 9457 keeps for the HTTP status).
func invalidTransition(found, to Status) error {
	return &fault.Error{Code: fault.InvalidTransition,
		Message: fmt.Sprintf("the call is %s; it cannot become %s", found, to),
		Extra:   map[string]any{"call_status": string(found)}}
}

// Ring records that the callee's client is ringing.
func (s *Service) Ring(ctx context.Context, by, call id.ID) (Call, error) {
	return s.move(ctx, by, call, moveRing)
}

// Accept answers the call (callee only).
func (s *Service) Accept(ctx context.Context, by, call id.ID) (Call, error) {
	return s.move(ctx, by, call, moveAccept)
}

// Decline refuses the call (callee only).
func (s *Service) Decline(ctx context.Context, by, call id.ID) (Call, error) {
	return s.move(ctx, by, call, moveDecline)
}

// End hangs up (either participant; a caller who hangs up before an answer
// ends the call too).
func (s *Service) End(ctx context.Context, by, call id.ID) (Call, error) {
	return s.move(ctx, by, call, moveEnd)
}
