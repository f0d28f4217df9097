package hub

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// sock records what the hub writes to it; onSend lets a test close it
// mid-delivery, as a failing write does.
type sock struct {
	Conn
	shard  *Shard
	frames []string
	reason cable.Reason
	onSend func(*sock)
	writes int // write calls (a SendMany is one)
}

// socks is the test's Out: a Conn is the first field of its sock.
type socks struct{}

func sockOf(c *Conn) *sock { return (*sock)(unsafe.Pointer(c)) }

func (socks) Send(c *Conn, frame []byte) {
	s := sockOf(c)
	s.writes++
	s.frames = append(s.frames, string(frame[cable.HeaderLen(len(frame)-2):]))
	if s.onSend != nil {
		s.onSend(s)
	}
}

func (x socks) SendMany(c *Conn, frames [][]byte) {
	for _, f := range frames {
		x.Send(c, f)
	}
	sockOf(c).writes -= len(frames) - 1
}

func (socks) Disconnect(c *Conn, r cable.Reason) {
	s := sockOf(c)
	s.reason = r
	s.shard.Detach(&s.Conn)
}

// testShard is a shard with the list of its sockets the server would keep.
type testShard struct {
	*Shard
	conns []*Conn
}

func newShard(h *Hub) *testShard {
	ts := &testShard{}
	ts.Shard = h.NewShard(socks{}, inline, func(_ id.ID, fn func(*Conn)) {
		for _, c := range ts.conns {
			fn(c)
		}
	})
	return ts
}

func newSock(ts *testShard, user, sid id.ID) *sock {
	s := &sock{shard: ts.Shard}
	s.Init(user, sid)
	ts.Attach(&s.Conn)
	ts.conns = append(ts.conns, &s.Conn)
	return s
}

func inline(fn func()) { fn() }

const convIdent = `"{\"channel\":\"ConversationChannel\",\"id\":\"7\"}"`

func ev(t *testing.T, topic, env string) *Event {
	t.Helper()
	e, err := NewEvent(topic, []byte(env), "1700000000000-0")
	require.NoError(t, err)
	return e
}

func msg(seq int) string {
	return fmt.Sprintf(`{"type":"message.created","conversation_id":"7","seq":%d,"at":"2026-11-28T10:00:00.000Z","data":{}}`, seq)
}

func TestDeliverOrderDedupeAndSharedFrames(t *testing.T) {
	t.Parallel()
	h := New(nil)
	a, b := newShard(h), newShard(h)
	s1, s2 := newSock(a, 1, 11), newSock(b, 2, 22)
	other := `"{\"id\":\"7\",\"channel\":\"ConversationChannel\"}"`
	a.Subscribe(&s1.Conn, []byte(convIdent), cable.ConversationChannel, rkey.ConversationTopic(7))
	b.Subscribe(&s2.Conn, []byte(other), cable.ConversationChannel, rkey.ConversationTopic(7))
	s3 := newSock(b, 3, 33)
	b.Subscribe(&s3.Conn, []byte(convIdent), cable.ConversationChannel, rkey.ConversationTopic(7))
	require.Equal(t, 2, h.Identifiers())

	e1, e2 := ev(t, "conv:7", msg(1)), ev(t, "conv:7", msg(2))
	h.Publish([]*Event{e1, e2, ev(t, "conv:7", msg(1)), ev(t, "conv:8", msg(3))})
	require.Equal(t, []string{`{"identifier":` + convIdent + `,"message":` + msg(1) + `}`,
		`{"identifier":` + convIdent + `,"message":` + msg(2) + `}`}, s1.frames)
	require.Equal(t, []string{`{"identifier":` + other + `,"message":` + msg(1) + `}`,
		`{"identifier":` + other + `,"message":` + msg(2) + `}`}, s2.frames)
	require.Equal(t, s1.frames, s3.frames)
	// One encoding per (event, identifier), shared across shards.
	require.Len(t, e1.frames, 2)
}

func TestTypingSkipsSenderAndMemberLeftEndsSubscription(t *testing.T) {
	t.Parallel()
	h := New(nil)
	sh := newShard(h)
	alice, alice2, bob := newSock(sh, 1, 11), newSock(sh, 1, 12), newSock(sh, 2, 22)
	for _, s := range []*sock{alice, alice2, bob} {
		sh.Subscribe(&s.Conn, []byte(convIdent), cable.ConversationChannel, "conv:7")
	}
	h.Publish([]*Event{ev(t, "conv:7", `{"type":"typing","conversation_id":"7","at":"2026-11-28T10:00:00.000Z","data":{"user_id":"1"}}`)})
	require.Empty(t, alice.frames)
	require.Empty(t, alice2.frames)
	require.Len(t, bob.frames, 1)

	h.Publish([]*Event{
		ev(t, "conv:7", `{"type":"member.left","conversation_id":"7","seq":5,"at":"2026-11-28T10:00:00.000Z","data":{"user_id":"2","role":"member"}}`),
		ev(t, "conv:7", msg(6)),
	})
	require.Len(t, bob.frames, 3, "bob gets member.left, then a reject_subscription, then nothing more")
	require.Contains(t, bob.frames[1], `member.left`)
	require.Equal(t, `{"identifier":`+convIdent+`,"type":"reject_subscription"}`, bob.frames[2])
	require.Zero(t, bob.NumSubs())
	require.Len(t, alice.frames, 2)
}

func TestRevokeDisconnectsTheSessionOnly(t *testing.T) {
	t.Parallel()
	h := New(nil)
	sh := newShard(h)
	a, b, c := newSock(sh, 1, 11), newSock(sh, 1, 11), newSock(sh, 1, 12)
	h.Publish([]*Event{ev(t, "user:1", `{"type":"session.revoked","at":"2026-11-28T10:00:00.000Z","data":{"user_id":"1","sid":"11"}}`)})
	require.Equal(t, cable.Unauthorized, a.reason)
	require.Equal(t, cable.Unauthorized, b.reason)
	require.Empty(t, c.reason)
	require.Equal(t, 1, sh.Conns())
}

func TestDetachDuringDelivery(t *testing.T) {
	t.Parallel()
	h := New(nil)
	sh := newShard(h)
	var socks []*sock
	for i := 1; i <= 5; i++ {
		s := newSock(sh, id.ID(i), id.ID(100+i))
		sh.Subscribe(&s.Conn, []byte(convIdent), cable.ConversationChannel, "conv:7")
		socks = append(socks, s)
	}
	// The second socket closes while being written to; so does the last.
	closeMe := func(s *sock) { sh.Detach(&s.Conn) }
	socks[1].onSend, socks[4].onSend = closeMe, closeMe
	h.Publish([]*Event{ev(t, "conv:7", msg(1))})
	h.Publish([]*Event{ev(t, "conv:7", msg(2))})
	for i, s := range socks {
		if i == 1 || i == 4 {
			require.Len(t, s.frames, 1)
		} else {
			require.Len(t, s.frames, 2)
		}
	}
	require.Equal(t, 3, sh.Conns())
	require.Len(t, sh.topics["conv:7"].groups[0].slots, 3)
	require.Equal(t, 1, h.Identifiers())
}

func TestWatchAndUnsubscribe(t *testing.T) {
	t.Parallel()
	h := New(nil)
	sh := newShard(h)
	s := newSock(sh, 1, 11)
	raw := []byte(`"{\"channel\":\"PresenceChannel\"}"`)
	sub := sh.Subscribe(&s.Conn, raw, cable.PresenceChannel, "")
	sh.Watch(sub, []id.ID{2, 3})
	pres := func(u string) *Event {
		return ev(t, "presence:"+u, `{"type":"presence","at":"2026-11-28T10:00:00.000Z","data":{"users":[{"id":"`+u+`","online":true}]}}`)
	}
	h.Publish([]*Event{pres("2"), pres("3"), pres("4")})
	require.Len(t, s.frames, 2)
	sh.Watch(sub, []id.ID{4})
	h.Publish([]*Event{pres("2"), pres("4")})
	require.Len(t, s.frames, 3)
	require.Len(t, sh.topics, 1)
	sh.Unsubscribe(sub)
	require.Empty(t, sh.topics)
	require.Zero(t, h.Identifiers())
	sh.Detach(&s.Conn)
	require.Zero(t, sh.Conns())
}

func TestNewEventRefusesWhatItCannotRoute(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ topic, env string }{
		{"room:1", msg(1)},
		{"conv:1", `not json`},
		{"conv:1", `{"seq":1}`},
		{"conv:1", `{"type":"typing","data":{}}`},
		{"user:1", `{"type":"session.revoked","data":{"user_id":"1"}}`},
	} {
		_, err := NewEvent(c.topic, []byte(c.env), "1-0")
		require.ErrorIs(t, err, ErrUnroutable, c)
	}
	e, err := NewEvent("conv:1", []byte(msg(9)), "1700000000123-4")
	require.NoError(t, err)
	require.Equal(t, int64(9), e.Seq)
	require.Equal(t, event.MessageCreated, e.Type)
	require.Equal(t, int64(1700000000123), e.Time.UnixMilli())
}

// nop is an Out that costs nothing to write to, so the benchmark measures
// the hub's own work per frame.
type nop struct{}

func (nop) Send(*Conn, []byte)             {}
func (nop) SendMany(*Conn, [][]byte)       {}
func (nop) Disconnect(*Conn, cable.Reason) {}

// BenchmarkDeliver is the hub's per-frame cost without the write
// syscall: one event to a conversation of 1,000 subscribers per op.
func BenchmarkDeliver(b *testing.B) {
	h := New(nil)
	sh := h.NewShard(nop{}, inline, func(id.ID, func(*Conn)) {})
	for i := 0; i < 1000; i++ {
		c := &Conn{}
		c.Init(id.ID(i+1), id.ID(i+1))
		sh.Attach(c)
		sh.Subscribe(c, []byte(convIdent), cable.ConversationChannel, "conv:7")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, _ := NewEvent("conv:7", []byte(msg(i+1)), "1700000000000-0")
		sh.Deliver([]*Event{e})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/frame")
}

func TestWaitHoldsThePublisherUntilTheLoopsCatchUp(t *testing.T) {
	t.Parallel()
	h := New(nil)
	var queued []func()
	var mu sync.Mutex
	h.NewShard(socks{}, func(fn func()) { mu.Lock(); queued = append(queued, fn); mu.Unlock() }, func(id.ID, func(*Conn)) {})
	h.Publish([]*Event{ev(t, "conv:7", msg(1)), ev(t, "conv:7", msg(2))})
	h.Publish([]*Event{ev(t, "conv:7", msg(3))})
	require.Equal(t, int64(3), h.Backlog())
	done := make(chan struct{})
	go func() { h.Wait(context.Background(), 1); close(done) }()
	require.Never(t, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, 50*time.Millisecond, 5*time.Millisecond, "Wait returned with the backlog over its bound")
	mu.Lock()
	run := queued
	mu.Unlock()
	for _, fn := range run {
		fn()
	}
	<-done
	require.Zero(t, h.Backlog())
}

// TestABatchWritesEachSocketOnce: a socket that gets several frames in one
// batch gets them in one write, in order.
func TestABatchWritesEachSocketOnce(t *testing.T) {
	t.Parallel()
	h := New(nil)
	sh := newShard(h)
	a, b := newSock(sh, 1, 11), newSock(sh, 2, 22)
	sh.Subscribe(&a.Conn, []byte(convIdent), cable.ConversationChannel, "conv:7")
	sh.Subscribe(&b.Conn, []byte(convIdent), cable.ConversationChannel, "conv:7")
	sh.Subscribe(&b.Conn, []byte(`"{\"channel\":\"CallChannel\"}"`), cable.CallChannel, "user:2")
	h.Publish([]*Event{ev(t, "conv:7", msg(1)), ev(t, "user:2", `{"type":"call.ringing","at":"2026-11-28T10:00:00.000Z","data":{}}`),
		ev(t, "conv:7", msg(2))})
	require.Equal(t, 1, a.writes)
	require.Len(t, a.frames, 2)
	require.Equal(t, 1, b.writes)
	require.Len(t, b.frames, 3)
	require.Contains(t, b.frames[0], `"seq":1`)
	require.Contains(t, b.frames[1], `call.ringing`)
	require.Contains(t, b.frames[2], `"seq":2`)
}
