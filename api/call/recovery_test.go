package call

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// commitOnly makes move t like Service.move but dies right after the
// commit: no participant set, no user-topic event, no publish.
func (b *bundle) commitOnly(t *testing.T, c Call, tr transition) Call {
	t.Helper()
	ctx := context.Background()
	var moved bool
	err := b.svc.inTx(ctx, func(tx pgx.Tx, st store) error {
		var err error
		if c, moved, err = st.move(ctx, c.ID, tr, b.now(), &c.CallerID, nil); err != nil {
			return err
		}
		_, err = b.svc.record(ctx, tx, c)
		return err
	})
	require.NoError(t, err)
	require.True(t, moved)
	return c
}

func TestTheRelayRepeatsWhatADeadProcessDidNotDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, time.Minute)
	relay := eventlog.NewRelay(b.guard, b.db, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func() time.Time { return time.Now().Add(time.Minute) },
		eventlog.RelayConfig{Grace: time.Second, Interval: time.Hour}, nil, b.svc.Effects.RelayHook())

	// Accepted, then the process died: the set and the events are missing.
	p := b.pair(t)
	c := b.call(t, p)
	require.NoError(t, b.rdb.Do(ctx, b.rdb.B().Del().Key(b.keys.CallParticipants(c.ID)).Build()).Error())
	b.commitOnly(t, c, moveAccept)
	require.Empty(t, b.participants(t, c.ID))

	_, err := relay.RunOnce(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{p.caller.String(), p.callee.String()}, b.participants(t, c.ID),
		"the hook rebuilt the set of the live call")
	require.Equal(t, []string{event.CallAccepted}, types(b.topicEvents(t, rkey.UserTopic(p.caller))))
	require.Equal(t, []string{event.CallIncoming, event.CallAccepted}, types(b.topicEvents(t, rkey.UserTopic(p.callee))))
	require.Equal(t, event.CallAccepted, b.topicEvents(t, rkey.ConversationTopic(p.conv))[1].Type, "then the DM event went out")

	// Ended, and the process died again; meanwhile an old call.accepted is
	// relayed late: the set must not come back and the event not be sent.
	c2 := b.pair(t)
	call2 := b.call(t, c2)
	call2 = b.commitOnly(t, call2, moveAccept)
	b.commitOnly(t, call2, moveEnd)
	require.ElementsMatch(t, []string{c2.caller.String(), c2.callee.String()}, b.participants(t, call2.ID),
		"the stale set of the dead process")
	_, err = relay.RunOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, b.participants(t, call2.ID), "the relay deleted the set of the ended call")
	require.Equal(t, []string{event.CallEnded}, types(b.topicEvents(t, rkey.UserTopic(c2.caller))),
		"the superseded call.accepted is not sent again; call.ended is")
	var seqs []int64
	for _, e := range b.topicEvents(t, rkey.ConversationTopic(c2.conv)) {
		seqs = append(seqs, e.Seq)
	}
	require.Equal(t, []int64{1, 2, 3}, seqs, "the DM log is published whole, in order")
}
