package call

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// MissedKind is the River kind of the missed-call job.
const MissedKind = "call_missed"

// Queue is the River queue of call jobs: kept apart from upkeep so a long
// partition job never delays a missed call.
const Queue = "calls"

// missedAttempts bounds the job's retries (River backs off between them:
// seconds, then minutes); a call still unanswered after all of them is
// left to a person, and the discarded job says so.
const missedAttempts = 10

// MissedArgs is the missed-call job: it carries only the call id and
// reloads everything else.
type MissedArgs struct {
	CallID id.ID `json:"call_id"`
}

// Kind is the job's River kind.
func (MissedArgs) Kind() string { return MissedKind }

// InsertOpts puts the job on the calls queue with bounded retries.
func (MissedArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: missedAttempts}
}

// MissOutcome is what Miss did.
type MissOutcome struct {
	// Missed is true when this call of Miss turned the call missed.
	Missed bool
	// Status is the call's status after the call (missed when Missed).
	Status Status
	// Wait is set when the call is still ringing but younger than the
	// ring timeout: try again after Wait.
	Wait time.Duration
}

// ErrNoCall is returned by Miss for a call id that names no call.
var ErrNoCall = errNoCall

// Miss turns call missed if it is still calling or ringing and was created
// at least the ring timeout ago; otherwise it changes nothing and says
// why. It is what the missed-call job and the worker's precise timer run,
// so whichever comes first does the move and the other finds it done.
func (s *Service) Miss(ctx context.Context, call id.ID) (MissOutcome, error) {
	now := s.Now()
	due := now.Add(-s.RingTimeout)
	var c Call
	var ev eventlog.Event
	moved := false
	err := s.inTx(ctx, func(tx pgx.Tx, st store) error {
		var err error
		if c, moved, err = st.move(ctx, call, moveMiss, now, nil, &due); err != nil || !moved {
			return err
		}
		ev, err = s.record(ctx, tx, c)
		return err
	})
	if err != nil {
		return MissOutcome{}, err
	}
	if moved {
		s.announce(ctx, c, ev)
		return MissOutcome{Missed: true, Status: Missed}, nil
	}
	if c, err = s.st.get(ctx, call); err != nil {
		return MissOutcome{}, err
	}
	out := MissOutcome{Status: c.Status}
	if c.Status == Calling || c.Status == Ringing {
		out.Wait = max(c.CreatedAt.Add(s.RingTimeout).Sub(now), time.Millisecond)
	}
	return out, nil
}

// MissedWorker works the missed-call job. Every step is logged with the
// call id and the attempt; a failure is returned to River, which retries.
type MissedWorker struct {
	river.WorkerDefaults[MissedArgs]
	svc *Service
}

// NewMissedWorker returns the job's worker, moving calls through svc.
func NewMissedWorker(svc *Service) *MissedWorker { return &MissedWorker{svc: svc} }

// Work runs one attempt of the job.
func (w *MissedWorker) Work(ctx context.Context, job *river.Job[MissedArgs]) error {
	log := w.svc.Log.With("call_id", job.Args.CallID.String(), "job_id", job.ID, "attempt", job.Attempt)
	log.InfoContext(ctx, "missed-call job: checking the call")
	out, err := w.svc.Miss(ctx, job.Args.CallID)
	switch {
	case errors.Is(err, ErrNoCall):
		log.WarnContext(ctx, "missed-call job: no such call; cancelling the job")
		return river.JobCancel(err)
	case err != nil:
		log.WarnContext(ctx, "missed-call job: failed; River will retry", "err", err)
		return fmt.Errorf("miss call %s: %w", job.Args.CallID, err)
	case out.Missed:
		log.InfoContext(ctx, "missed-call job: the call was not answered; it is missed")
	case out.Wait > 0:
		log.InfoContext(ctx, "missed-call job: the call is not due yet; snoozing", "status", string(out.Status), "wait", out.Wait.String())
		return river.JobSnooze(out.Wait)
	default:
		log.InfoContext(ctx, "missed-call job: nothing to do", "status", string(out.Status))
	}
	return nil
}
