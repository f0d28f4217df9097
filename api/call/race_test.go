package call

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/stretchr/testify/require"
)

// TestRacingMovesHaveExactlyOneWinner fires accept, decline, end (by the
// caller) and the missed-call job's move at the same call, at once, many
// times. Of the moves that can take a call out of calling or ringing,
// exactly one must win each time; the others must be refused with
// invalid_transition naming a status the call really had (the job: must
// change nothing). The one legal sequel is end after a winning accept:
// active → ended. The DM's log and the row's timestamps must tell the same
// story as the answers.
func TestRacingMovesHaveExactlyOneWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	// The job's service sees a clock past every call's ring timeout.
	jobDeps := b.svc.Deps
	jobDeps.Now = func() time.Time { return b.now().Add(time.Hour) }
	job := New(jobDeps)

	const rounds = 40
	wins := map[Status]int{}
	for round := 0; round < rounds; round++ {
		p := b.pair(t)
		c := b.call(t, p)
		start := []Status{Calling}
		if round%2 == 1 {
			_, err := b.svc.Ring(ctx, p.callee, c.ID)
			require.NoError(t, err)
			start = append(start, Ringing)
		}

		type result struct {
			to  Status
			ok  bool
			err error
		}
		racers := map[Status]func() (bool, error){
			Active:   func() (bool, error) { _, err := b.svc.Accept(ctx, p.callee, c.ID); return err == nil, err },
			Declined: func() (bool, error) { _, err := b.svc.Decline(ctx, p.callee, c.ID); return err == nil, err },
			Ended:    func() (bool, error) { _, err := b.svc.End(ctx, p.caller, c.ID); return err == nil, err },
			Missed: func() (bool, error) {
				out, err := job.Miss(ctx, c.ID)
				return out.Missed, err
			},
		}
		results := make(chan result, len(racers))
		var ready, wg sync.WaitGroup
		gate := make(chan struct{})
		for to, move := range racers {
			ready.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Done()
				<-gate
				ok, err := move()
				results <- result{to, ok, err}
			}()
		}
		ready.Wait()
		close(gate)
		wg.Wait()
		close(results)

		// The log: call.incoming, maybe call.ringing, then what the race did.
		var history []Status
		for _, l := range b.dmLog(t, p.conv) {
			require.Equal(t, c.ID, l.CallID)
			history = append(history, l.Status)
		}
		require.Equal(t, start, history[:len(start)])
		after := history[len(start):]
		require.NotEmpty(t, after, "round %d: somebody wins", round)
		winner := after[0]
		wins[winner]++
		if winner == Active {
			require.Equal(t, []Status{Active, Ended}, after,
				"round %d: an accepted call can only end, and the end racer ran after the accept", round)
		} else {
			require.Len(t, after, 1, "round %d: nothing leaves %s", round, winner)
		}

		succeeded := map[Status]bool{}
		for r := range results {
			if r.ok {
				require.NoError(t, r.err)
				succeeded[r.to] = true
				continue
			}
			if r.to == Missed {
				require.NoError(t, r.err, "the job does nothing when it loses, and does not fail")
				continue
			}
			fe := requireCode(t, r.err, fault.InvalidTransition)
			require.Contains(t, history, Status(fe.Extra["call_status"].(string)),
				"round %d: a refusal names a status the call had", round)
		}
		for _, s := range after {
			require.True(t, succeeded[s], "round %d: the log's %s is the move that reported success", round, s)
		}
		require.Len(t, succeeded, len(after), "round %d: every success is in the log, once", round)

		final, err := b.svc.Get(ctx, p.caller, c.ID)
		require.NoError(t, err)
		require.Equal(t, history[len(history)-1], final.Status)
		stamped := map[Status]bool{Ringing: final.RingingAt != nil, Active: final.AcceptedAt != nil,
			Declined: final.DeclinedAt != nil, Missed: final.MissedAt != nil, Ended: final.EndedAt != nil}
		for s, has := range stamped {
			require.Equal(t, contains(history, s), has, "round %d: %s stamped iff the call was %s", round, s, s)
		}
		require.Empty(t, b.participants(t, c.ID), "round %d: a finished call keeps no participant set", round)
	}
	t.Logf("first winners over %d rounds: %v", rounds, wins)
}

func contains(ss []Status, s Status) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
