package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RingTimer makes missed calls precise. River's scheduler promotes a
// scheduled job only every few seconds (5 s, not configurable), so a call
// whose missed-call job waits for it turns missed up to ~6 s late. The
// timer looks every poll interval for missed-call jobs falling due within
// the look-ahead, arms an in-process timer for each at its scheduled time,
// and when one fires runs the same move the job runs (call.Service.Miss).
//
// River stays the guarantee: the timer never touches the job, which runs
// later and finds the call already missed (or does the move itself if the
// timer failed or its process died). The timer holds nothing that a
// restart loses: a new process re-arms from the queue, firing at once for
// jobs already due.
type RingTimer struct {
	jobs  *river.Client[pgx.Tx]
	miss  func(ctx context.Context, callID id.ID) (call.MissOutcome, error)
	poll  time.Duration
	ahead time.Duration
	log   *slog.Logger

	// mu guards armed and fires.
	mu sync.Mutex
	// armed holds the jobs seen by the last look, by job id, with their
	// timer (nil for a job it cannot read). An entry leaves when its job no
	// longer shows as scheduled (River took it), so a fired job is never
	// fired again by this timer. fires counts timers armed and not yet
	// done: Run waits for it before it returns.
	armed map[int64]*time.Timer
	fires sync.WaitGroup
}

// listBatch bounds the jobs read per look; more than this falling due
// within the look-ahead are armed at the next look.
const listBatch = 1000

// NewRingTimer returns a timer reading jobs from the queue of client and
// moving calls with miss.
func NewRingTimer(client *river.Client[pgx.Tx], miss func(context.Context, id.ID) (call.MissOutcome, error),
	poll, ahead time.Duration, log *slog.Logger) *RingTimer {
	return &RingTimer{jobs: client, miss: miss, poll: poll, ahead: ahead, log: log, armed: map[int64]*time.Timer{}}
}

// Run looks for due jobs until ctx ends, then stops the armed timers and
// waits for fires in progress.
func (t *RingTimer) Run(ctx context.Context) {
	tick := time.NewTicker(t.poll)
	defer tick.Stop()
	for {
		if err := t.look(ctx); err != nil && ctx.Err() == nil {
			t.log.WarnContext(ctx, "ring timer: listing missed-call jobs failed; River's scheduler still runs them", "err", err)
		}
		select {
		case <-ctx.Done():
			t.mu.Lock()
			for jid := range t.armed {
				t.disarm(jid)
			}
			t.mu.Unlock()
			t.fires.Wait()
			return
		case <-tick.C:
		}
	}
}

// look arms a timer for every scheduled missed-call job due within the
// look-ahead and forgets jobs River has taken.
func (t *RingTimer) look(ctx context.Context) error {
	params := river.NewJobListParams().Kinds(call.MissedKind).States(rivertype.JobStateScheduled).
		Where("scheduled_at <= @until", river.NamedArgs{"until": time.Now().Add(t.ahead)}).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(listBatch)
	res, err := t.jobs.JobList(ctx, params)
	if err != nil {
		return err
	}
	seen := make(map[int64]bool, len(res.Jobs))
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range res.Jobs {
		seen[j.ID] = true
		if _, ok := t.armed[j.ID]; ok {
			continue
		}
		var args call.MissedArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
			t.log.WarnContext(ctx, "ring timer: unreadable missed-call job; River will handle it", "job_id", j.ID, "err", err)
			t.armed[j.ID] = nil // remembered, never fired
			continue
		}
		t.arm(ctx, j.ID, args.CallID, time.Until(j.ScheduledAt))
	}
	for jid := range t.armed {
		if !seen[jid] {
			t.disarm(jid)
		}
	}
	return nil
}

// disarm stops job jid's timer, if it has not fired, and forgets the job.
// The caller holds mu.
func (t *RingTimer) disarm(jid int64) {
	if tm := t.armed[jid]; tm != nil && tm.Stop() {
		t.fires.Done() // the fire that will now never run
	}
	delete(t.armed, jid)
}

// arm sets job jid's timer to fire after d. The caller holds mu.
func (t *RingTimer) arm(ctx context.Context, jid int64, callID id.ID, d time.Duration) {
	t.fires.Add(1)
	t.armed[jid] = time.AfterFunc(max(d, 0), func() {
		defer t.fires.Done()
		t.fire(ctx, jid, callID)
	})
}

// fire runs the move for one job. A call not yet due by the worker's own
// ring timeout is re-armed for when it is; a failure is logged and left to
// the River job, which retries.
func (t *RingTimer) fire(ctx context.Context, jid int64, callID id.ID) {
	if ctx.Err() != nil {
		return
	}
	log := t.log.With("call_id", callID.String(), "job_id", jid)
	out, err := t.miss(ctx, callID)
	switch {
	case err != nil:
		log.WarnContext(ctx, "ring timer: could not miss the call; the River job will", "err", err)
	case out.Missed:
		log.InfoContext(ctx, "ring timer: the call was not answered; it is missed")
	case out.Wait > 0:
		t.mu.Lock()
		if _, ok := t.armed[jid]; ok && ctx.Err() == nil {
			t.arm(ctx, jid, callID, out.Wait)
		}
		t.mu.Unlock()
	default:
		log.DebugContext(ctx, "ring timer: nothing to do", "status", string(out.Status))
	}
}
