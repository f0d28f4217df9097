package worker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

// The acceptance bound: missed within 2 s after the ring timeout.
const missBound = 2 * time.Second

func TestAnUnansweredCallIsMissedWithinTwoSecondsOfTheTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 1500 * time.Millisecond
	e := newEnv(t, timeout)
	e.start(t, nil, time.Now)

	unanswered := e.newCall(t)
	answered := e.newCall(t)
	_, err := e.calls.Ring(context.Background(), answered.CalleeID, answered.ID)
	require.NoError(t, err)
	_, err = e.calls.Accept(context.Background(), answered.CalleeID, answered.ID)
	require.NoError(t, err)

	require.Eventually(t, func() bool { return e.get(t, unanswered).Status == call.Missed },
		timeout+missBound+time.Second, 20*time.Millisecond)
	got := e.get(t, unanswered)
	late := got.MissedAt.Sub(got.CreatedAt) - timeout
	t.Logf("missed %v after the ring timeout", late)
	require.GreaterOrEqual(t, late, time.Duration(0), "never before the timeout")
	require.Less(t, late, missBound)
	heard := func(u id.ID) func() bool {
		return func() bool { return slices.Contains(e.userEvents(t, u), event.CallMissed) }
	}
	require.Eventually(t, heard(got.CallerID), time.Second, 10*time.Millisecond, "the caller hears call.missed")
	require.Eventually(t, heard(got.CalleeID), time.Second, 10*time.Millisecond, "the callee hears call.missed")

	// The answered call's job runs too (River, a few seconds later) and
	// leaves it alone.
	require.Eventually(t, func() bool { return e.jobState(t, answered) == "completed" }, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, call.Active, e.get(t, answered).Status, "an answered call is never turned missed")
	require.NotContains(t, e.userEvents(t, answered.CalleeID), event.CallMissed)
	require.Eventually(t, func() bool { return e.jobState(t, unanswered) == "completed" }, 15*time.Second, 50*time.Millisecond,
		"the unanswered call's job ran after the timer and found nothing to do")
}

func TestRiverAloneMissesTheCallWhenTheTimerIsOff(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	e := newEnv(t, timeout)
	e.start(t, map[string]string{"CALL_TIMER_POLL": "0"}, time.Now)
	c := e.newCall(t)
	// River's scheduler promotes scheduled jobs every 5 s: late, but sure.
	require.Eventually(t, func() bool { return e.get(t, c).Status == call.Missed }, 20*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return e.jobState(t, c) == "completed" }, 5*time.Second, 20*time.Millisecond)
	require.Contains(t, e.userEvents(t, c.CalleeID), event.CallMissed)
}
