package conformance

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

func TestNonMemberIsRejected(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	c := e.dial(st, 2)
	require.Equal(t, "reject_subscription", subscribe(t, c, convIdent(7)))
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	quiet(t, c, 300*time.Millisecond)
}

// TestRemovedMemberStopsReceiving: the api removes bob from the set and
// publishes member.left; bob's socket gets that event, then a
// reject_subscription, and nothing after it.
func TestRemovedMemberStopsReceiving(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1, 2)
	alice, bob := e.dial(st, 1), e.dial(st, 2)
	require.Equal(t, "confirm_subscription", subscribe(t, alice, convIdent(7)))
	require.Equal(t, "confirm_subscription", subscribe(t, bob, convIdent(7)))
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	require.Equal(t, int64(1), envelope(t, next(t, bob)).Seq)
	require.Equal(t, int64(1), envelope(t, next(t, alice)).Seq)

	require.NoError(t, st.rdb.Do(context.Background(), st.rdb.B().Srem().Key(st.keys.Members(7)).Member("2").Build()).Error())
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MemberLeft, ConversationID: 7, Seq: 2,
		Data: []byte(`{"user_id":"2","role":"member"}`)})
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 3})
	require.Equal(t, event.MemberLeft, envelope(t, next(t, bob)).Type)
	m := next(t, bob)
	require.Equal(t, "reject_subscription", m.Type)
	require.Equal(t, convIdent(7), m.Identifier)
	quiet(t, bob, 300*time.Millisecond)
	require.Equal(t, event.MemberLeft, envelope(t, next(t, alice)).Type)
	require.Equal(t, int64(3), envelope(t, next(t, alice)).Seq)
	// Subscribing again is refused: the set no longer has bob.
	require.Equal(t, "reject_subscription", subscribe(t, bob, convIdent(7)))
}

func TestTypingGoesToOthersNotTheSender(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_TYPING_INTERVAL": "2s"})
	st.member(7, 1, 2)
	alice, alice2, bob := e.dial(st, 1), e.dial(st, 1), e.dial(st, 2)
	for _, c := range []*cable.Conn{alice, alice2, bob} {
		require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))
	}
	require.NoError(t, alice.Perform(convIdent(7), `{"action":"typing"}`))
	m := next(t, bob)
	require.Equal(t, convIdent(7), m.Identifier)
	env := envelope(t, m)
	require.Equal(t, event.Typing, env.Type)
	require.Equal(t, id.ID(7), env.ConversationID)
	require.Zero(t, env.Seq)
	require.JSONEq(t, `{"user_id":"1"}`, string(env.Data))
	// Not stored, not echoed: alice's sockets hear nothing.
	quiet(t, alice, 300*time.Millisecond)
	quiet(t, alice2, 10*time.Millisecond)
	// At most one per user and conversation per 2 s, across her sockets.
	require.NoError(t, alice2.Perform(convIdent(7), `{"action":"typing"}`))
	quiet(t, bob, 300*time.Millisecond)
	require.Equal(t, float64(1), e.metric("chatterly_edge_actions_dropped_total", `reason="typing_rate"`))
}

// TestOrderPerConversationUnder20Writers: 20 writers append to 5
// conversations at once, each conversation's events in seq order as the
// api's ordered publisher guarantees, with some events re-published (as
// the outbox relay may). Every subscriber, on either event loop, gets each
// conversation's events exactly once and in order.
func TestOrderPerConversationUnder20Writers(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	const convs, writers, perConv = 5, 20, 200
	var subs []*cable.Conn
	for u := id.ID(1); u <= 6; u++ {
		c := e.dial(st, u)
		subs = append(subs, c)
	}
	for conv := id.ID(1); conv <= convs; conv++ {
		st.member(conv, 1, 2, 3, 4, 5, 6)
		for _, c := range subs {
			require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(conv)))
		}
	}
	type convState struct {
		sync.Mutex
		seq int64
	}
	states := make([]convState, convs+1)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < convs*perConv/writers; i++ {
				conv := id.ID(1 + (w+i)%convs)
				s := &states[conv]
				s.Lock()
				if s.seq >= perConv {
					s.Unlock()
					continue
				}
				s.seq++
				seq := s.seq
				st.publish(rkey.ConversationTopic(conv), event.Envelope{Type: event.MessageCreated, ConversationID: conv, Seq: seq})
				if seq%17 == 0 { // the relay publishes an event a second time
					st.publish(rkey.ConversationTopic(conv), event.Envelope{Type: event.MessageCreated, ConversationID: conv, Seq: seq})
				}
				s.Unlock()
			}
		}(w)
	}
	wg.Wait()
	var total int64
	for conv := 1; conv <= convs; conv++ {
		total += states[conv].seq
	}
	for _, c := range subs {
		last := map[id.ID]int64{}
		for n := int64(0); n < total; n++ {
			m, err := c.Next(10*time.Second, true)
			require.NoError(t, err, "after %d of %d", n, total)
			var env event.Envelope
			require.NoError(t, json.Unmarshal(m.Message, &env))
			require.Equal(t, last[env.ConversationID]+1, env.Seq, "conversation %d", env.ConversationID)
			last[env.ConversationID] = env.Seq
		}
		quiet(t, c, 100*time.Millisecond)
	}
}
