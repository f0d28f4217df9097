package call

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// reach drives a new call of p into status through allowed moves.
func (b *bundle) reach(t *testing.T, p pair, status Status) Call {
	t.Helper()
	ctx := context.Background()
	c := b.call(t, p)
	var err error
	switch status {
	case Calling:
	case Ringing:
		c, err = b.svc.Ring(ctx, p.callee, c.ID)
	case Active:
		c, err = b.svc.Accept(ctx, p.callee, c.ID)
	case Declined:
		c, err = b.svc.Decline(ctx, p.callee, c.ID)
	case Ended:
		c, err = b.svc.End(ctx, p.caller, c.ID)
	case Missed:
		b.clock.Add(int64(time.Hour))
		var out MissOutcome
		out, err = b.svc.Miss(ctx, c.ID)
		require.NoError(t, err)
		require.True(t, out.Missed)
		c, err = b.svc.Get(ctx, p.caller, c.ID)
	}
	require.NoError(t, err)
	require.Equal(t, status, c.Status)
	return c
}

func TestEveryAllowedTransition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type move struct {
		name  string
		from  Status
		to    Status
		event string
		do    func(b *bundle, p pair, c Call) (Call, error)
	}
	ring := func(b *bundle, p pair, c Call) (Call, error) { return b.svc.Ring(ctx, p.callee, c.ID) }
	accept := func(b *bundle, p pair, c Call) (Call, error) { return b.svc.Accept(ctx, p.callee, c.ID) }
	decline := func(b *bundle, p pair, c Call) (Call, error) { return b.svc.Decline(ctx, p.callee, c.ID) }
	endByCaller := func(b *bundle, p pair, c Call) (Call, error) { return b.svc.End(ctx, p.caller, c.ID) }
	endByCallee := func(b *bundle, p pair, c Call) (Call, error) { return b.svc.End(ctx, p.callee, c.ID) }
	miss := func(b *bundle, p pair, c Call) (Call, error) {
		b.clock.Add(int64(time.Hour))
		out, err := b.svc.Miss(ctx, c.ID)
		if err != nil || !out.Missed {
			return Call{}, err
		}
		return b.svc.Get(ctx, p.callee, c.ID)
	}
	moves := []move{
		{"calling→ringing", Calling, Ringing, event.CallRinging, ring},
		{"calling→active", Calling, Active, event.CallAccepted, accept},
		{"calling→declined", Calling, Declined, event.CallDeclined, decline},
		{"calling→ended (caller hangs up)", Calling, Ended, event.CallEnded, endByCaller},
		{"calling→missed", Calling, Missed, event.CallMissed, miss},
		{"ringing→active", Ringing, Active, event.CallAccepted, accept},
		{"ringing→declined", Ringing, Declined, event.CallDeclined, decline},
		{"ringing→ended", Ringing, Ended, event.CallEnded, endByCallee},
		{"ringing→missed", Ringing, Missed, event.CallMissed, miss},
		{"active→ended", Active, Ended, event.CallEnded, endByCaller},
	}
	b := setup(t, time.Minute)
	for _, m := range moves {
		t.Run(m.name, func(t *testing.T) {
			p := b.pair(t)
			before := b.reach(t, p, m.from)
			c, err := m.do(b, p, before)
			require.NoError(t, err)
			require.Equal(t, m.to, c.Status)

			// The move stamps its own status's time and no other.
			stamps := func(c Call) map[Status]*time.Time {
				return map[Status]*time.Time{Ringing: c.RingingAt, Active: c.AcceptedAt, Declined: c.DeclinedAt, Missed: c.MissedAt, Ended: c.EndedAt}
			}
			after, was := stamps(c), stamps(before)
			require.Nil(t, was[m.to])
			require.NotNil(t, after[m.to], "%s sets its timestamp", m.to)
			require.WithinDuration(t, b.now(), *after[m.to], 5*time.Second)
			for s := range after {
				if s != m.to {
					require.Equal(t, was[s], after[s], "%s's timestamp is left alone", s)
				}
			}
			if m.to == Ended {
				require.NotNil(t, c.EndedBy)
			} else {
				require.Nil(t, c.EndedBy)
			}

			// The move is the newest event of the DM's log, with its seq.
			lg := b.dmLog(t, p.conv)
			last := lg[len(lg)-1]
			require.Equal(t, m.event, last.Type)
			require.Equal(t, c.ID, last.CallID)
			require.Equal(t, m.to, last.Status)
			require.Equal(t, int64(len(lg)), last.Seq)

			// Both participants' user topics hear of it.
			for _, u := range []id.ID{p.caller, p.callee} {
				evs := b.topicEvents(t, rkey.UserTopic(u))
				require.NotEmpty(t, evs)
				got := evs[len(evs)-1]
				require.Equal(t, m.event, got.Type)
				require.Zero(t, got.Seq, "user-topic copies carry no seq")
			}
			// The participant set exists exactly while the call is live.
			if m.to.Live() {
				require.ElementsMatch(t, []string{p.caller.String(), p.callee.String()}, b.participants(t, c.ID))
			} else {
				require.Empty(t, b.participants(t, c.ID))
			}
		})
	}
}

func TestEveryForbiddenTransitionIsAConflictNamingTheStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	moves := map[Status]func(p pair, c Call) (Call, error){
		Ringing:  func(p pair, c Call) (Call, error) { return b.svc.Ring(ctx, p.callee, c.ID) },
		Active:   func(p pair, c Call) (Call, error) { return b.svc.Accept(ctx, p.callee, c.ID) },
		Declined: func(p pair, c Call) (Call, error) { return b.svc.Decline(ctx, p.callee, c.ID) },
		Ended:    func(p pair, c Call) (Call, error) { return b.svc.End(ctx, p.caller, c.ID) },
	}
	allowed := map[Status][]Status{
		Calling: {Ringing, Active, Declined, Ended, Missed},
		Ringing: {Active, Declined, Ended, Missed},
		Active:  {Ended},
	}
	for _, from := range []Status{Calling, Ringing, Active, Ended, Declined, Missed} {
		for to, do := range moves {
			ok := false
			for _, a := range allowed[from] {
				ok = ok || a == to
			}
			if ok {
				continue
			}
			t.Run(string(from)+"↛"+string(to), func(t *testing.T) {
				p := b.pair(t)
				c := b.reach(t, p, from)
				n := len(b.dmLog(t, p.conv))
				_, err := do(p, c)
				fe := requireCode(t, err, fault.InvalidTransition)
				require.Equal(t, string(from), fe.Extra["call_status"])
				got, err := b.svc.Get(ctx, p.caller, c.ID)
				require.NoError(t, err)
				require.Equal(t, c, got, "a refused move changes nothing")
				require.Len(t, b.dmLog(t, p.conv), n, "and records no event")
			})
		}
		if from == Calling || from == Ringing {
			continue
		}
		t.Run(string(from)+"↛missed", func(t *testing.T) {
			p := b.pair(t)
			c := b.reach(t, p, from)
			b.clock.Add(int64(time.Hour))
			out, err := b.svc.Miss(ctx, c.ID)
			require.NoError(t, err)
			require.False(t, out.Missed)
			require.Equal(t, from, out.Status)
			require.Zero(t, out.Wait)
		})
	}
}

func TestOnlyTheCalleeAnswersAndOnlyParticipantsSeeTheCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	p := b.pair(t)
	stranger := b.user(t)
	c := b.call(t, p)

	for _, move := range []func(context.Context, id.ID, id.ID) (Call, error){b.svc.Ring, b.svc.Accept, b.svc.Decline} {
		_, err := move(ctx, p.caller, c.ID)
		requireCode(t, err, fault.Forbidden)
		_, err = move(ctx, stranger, c.ID)
		requireCode(t, err, fault.NotFound)
	}
	_, err := b.svc.End(ctx, stranger, c.ID)
	requireCode(t, err, fault.NotFound)
	_, err = b.svc.Get(ctx, stranger, c.ID)
	requireCode(t, err, fault.NotFound)
	_, err = b.svc.Get(ctx, p.callee, b.ids.Next())
	requireCode(t, err, fault.NotFound)

	got, err := b.svc.Get(ctx, p.callee, c.ID)
	require.NoError(t, err)
	require.Equal(t, Calling, got.Status, "refused moves changed nothing")
}

func TestCreateRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	p := b.pair(t)
	other := b.user(t)

	_, err := b.svc.Create(ctx, p.caller, NewCall{ConversationID: p.conv, Media: "hologram"})
	requireCode(t, err, fault.Validation)
	_, err = b.svc.Create(ctx, p.caller, NewCall{Media: Audio})
	requireCode(t, err, fault.Validation)
	_, err = b.svc.Create(ctx, p.caller, NewCall{CalleeID: p.callee, ConversationID: p.conv, Media: Audio})
	requireCode(t, err, fault.Validation)
	_, err = b.svc.Create(ctx, p.caller, NewCall{CalleeID: p.caller, Media: Audio})
	requireCode(t, err, fault.Validation)
	_, err = b.svc.Create(ctx, p.caller, NewCall{CalleeID: b.ids.Next(), Media: Audio})
	requireCode(t, err, fault.NotFound)
	_, err = b.svc.Create(ctx, other, NewCall{ConversationID: p.conv, Media: Audio})
	requireCode(t, err, fault.NotFound) // not a member of that DM

	group := b.ids.Next()
	_, err = b.db.Exec(ctx, `INSERT INTO conversations (id, kind, name, created_by) VALUES ($1, 'group', 'g', $2)`, int64(group), int64(p.caller))
	require.NoError(t, err)
	_, err = b.db.Exec(ctx, `INSERT INTO memberships (conversation_id, user_id, role) VALUES ($1, $2, 'owner'), ($1, $3, 'member')`,
		int64(group), int64(p.caller), int64(p.callee))
	require.NoError(t, err)
	_, err = b.svc.Create(ctx, p.caller, NewCall{ConversationID: group, Media: Video})
	requireCode(t, err, fault.Validation)

	c, err := b.svc.Create(ctx, p.callee, NewCall{ConversationID: p.conv, Media: Video})
	require.NoError(t, err, "either member of a DM may call the other")
	require.Equal(t, p.caller, c.CalleeID)
	require.Equal(t, Video, c.Media)
}

func TestAUserInALiveCallIsBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	p := b.pair(t)
	third := b.user(t)
	callerAndThird := b.dm(t, p.caller, third)
	calleeAndThird := b.dm(t, p.callee, third)

	c := b.call(t, p)
	jobsBefore := b.jobCount(t)
	for _, live := range []func() error{
		func() error { return nil },
		func() error { _, err := b.svc.Ring(ctx, p.callee, c.ID); return err },
		func() error { _, err := b.svc.Accept(ctx, p.callee, c.ID); return err },
	} {
		require.NoError(t, live())
		_, err := b.svc.Create(ctx, third, NewCall{ConversationID: callerAndThird, Media: Audio})
		fe := requireCode(t, err, fault.Busy)
		require.Equal(t, p.caller.String(), fe.Extra["user_id"])
		_, err = b.svc.Create(ctx, p.callee, NewCall{ConversationID: calleeAndThird, Media: Audio})
		requireCode(t, err, fault.Busy)
	}
	require.Equal(t, jobsBefore, b.jobCount(t), "a refused call enqueues no job")
	_, err := b.svc.End(ctx, p.callee, c.ID)
	require.NoError(t, err)
	_, err = b.svc.Create(ctx, third, NewCall{ConversationID: callerAndThird, Media: Audio})
	require.NoError(t, err, "an ended call frees its participants")
}

func TestConcurrentCallsToOneUserLetOneThrough(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	callee := b.user(t)
	const callers = 8
	convs := make([]id.ID, callers)
	users := make([]id.ID, callers)
	for i := range users {
		users[i] = b.user(t)
		convs[i] = b.dm(t, users[i], callee)
	}
	errs := make(chan error, callers)
	start := make(chan struct{})
	for i := range users {
		go func(i int) {
			<-start
			_, err := b.svc.Create(ctx, users[i], NewCall{ConversationID: convs[i], Media: Audio})
			errs <- err
		}(i)
	}
	close(start)
	ok := 0
	for range users {
		if err := <-errs; err == nil {
			ok++
		} else {
			requireCode(t, err, fault.Busy)
		}
	}
	require.Equal(t, 1, ok, "the per-user lock lets exactly one call in")
	var live int
	require.NoError(t, b.db.QueryRow(ctx, `SELECT count(*) FROM call_sessions WHERE callee_id = $1`, int64(callee)).Scan(&live))
	require.Equal(t, 1, live)
}

func TestCreateEnqueuesTheMissedCallJobInItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, 42*time.Second)
	p := b.pair(t)
	c := b.call(t, p)
	var args string
	var at time.Time
	var queue string
	require.NoError(t, b.db.QueryRow(ctx, `SELECT args::text, scheduled_at, queue FROM river_job WHERE kind = $1`, MissedKind).
		Scan(&args, &at, &queue))
	require.JSONEq(t, `{"call_id":"`+c.ID.String()+`"}`, args, "the job carries only the call id")
	require.WithinDuration(t, c.CreatedAt.Add(42*time.Second), at, time.Millisecond)
	require.Equal(t, Queue, queue)
}

func TestCallIncomingGoesToTheCalleeAndTheRestToBoth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	p := b.pair(t)
	c := b.call(t, p)
	require.Equal(t, []string{event.CallIncoming}, types(b.topicEvents(t, rkey.UserTopic(p.callee))))
	require.Empty(t, b.topicEvents(t, rkey.UserTopic(p.caller)))
	require.ElementsMatch(t, []string{p.caller.String(), p.callee.String()}, b.participants(t, c.ID),
		"the set is written when the call is created")

	_, err := b.svc.Ring(ctx, p.callee, c.ID)
	require.NoError(t, err)
	_, err = b.svc.Accept(ctx, p.callee, c.ID)
	require.NoError(t, err)
	_, err = b.svc.End(ctx, p.caller, c.ID)
	require.NoError(t, err)
	require.Equal(t, []string{event.CallIncoming, event.CallRinging, event.CallAccepted, event.CallEnded},
		types(b.topicEvents(t, rkey.UserTopic(p.callee))))
	require.Equal(t, []string{event.CallRinging, event.CallAccepted, event.CallEnded},
		types(b.topicEvents(t, rkey.UserTopic(p.caller))))
	require.Empty(t, b.participants(t, c.ID))

	// The DM log has the whole history, and its stream carries it in seq
	// order with the seq.
	lg := b.dmLog(t, p.conv)
	require.Len(t, lg, 4)
	var seqs []int64
	require.Eventually(t, func() bool {
		seqs = seqs[:0]
		for _, e := range b.topicEvents(t, rkey.ConversationTopic(p.conv)) {
			seqs = append(seqs, e.Seq)
		}
		return len(seqs) == 4
	}, 5*time.Second, 10*time.Millisecond)
	require.True(t, sort.SliceIsSorted(seqs, func(i, j int) bool { return seqs[i] < seqs[j] }))
	require.Equal(t, []int64{1, 2, 3, 4}, seqs)
}

func TestMissWaitsForTheRingTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	p := b.pair(t)
	c := b.call(t, p)

	out, err := b.svc.Miss(ctx, c.ID)
	require.NoError(t, err)
	require.False(t, out.Missed, "a call younger than the ring timeout is never missed")
	require.Equal(t, Calling, out.Status)
	require.InDelta(t, time.Minute.Seconds(), out.Wait.Seconds(), 2)

	b.clock.Add(int64(time.Minute))
	out, err = b.svc.Miss(ctx, c.ID)
	require.NoError(t, err)
	require.True(t, out.Missed)
	out, err = b.svc.Miss(ctx, c.ID)
	require.NoError(t, err)
	require.False(t, out.Missed, "a second run finds it done")
	require.Equal(t, Missed, out.Status)

	_, err = b.svc.Miss(ctx, b.ids.Next())
	require.ErrorIs(t, err, ErrNoCall)
}

// jobCount is how many missed-call jobs the queue holds.
func (b *bundle) jobCount(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.db.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1`, MissedKind).Scan(&n))
	return n
}
