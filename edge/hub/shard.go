package hub

import (
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
)

// topic is a topic's subscribers in one shard, grouped by identifier so a
// group shares one encoded frame.
type topic struct {
	name   string
	groups []group
}

type group struct {
	ident *Ident
	slots []*slot
}

// Shard is the subscriptions of one event loop. Every method must be
// called on that loop's goroutine.
type Shard struct {
	hub     *Hub
	out     Out
	post    func(func())
	session func(sid id.ID, fn func(*Conn))
	topics  map[string]*topic
	conns   int

	// delivering is set while Deliver writes to sockets; detached sockets
	// wait in detached until it ends (see the package comment).
	delivering bool
	detached   []*Conn
	// scratch for member.left removals.
	leaving []*Sub
	// The writes of the batch being delivered, one entry per socket: a
	// socket that gets several frames in one batch gets them in one writev
	// (see Deliver). more chains each socket's frames after its first;
	// lags are the entry times of the batch's delivered events.
	pend []pendingWrite
	more []moreFrame
	iov  [][]byte
	lags []time.Time
	// left remembers recent member.left events, so a subscribe whose
	// membership check raced with one is refused (see Left).
	left map[[2]id.ID]time.Time
}

// Post runs fn on the shard's loop, after the tasks posted before it.
func (s *Shard) Post(fn func()) { s.post(fn) }

// Conns is the number of attached sockets.
func (s *Shard) Conns() int { return s.conns }

// Attach adds an authenticated socket, indexing it by session.
func (s *Shard) Attach(c *Conn) {
	if c.attached {
		return
	}
	c.attached = true
	s.conns++
}

// Detach removes a socket and all its subscriptions. It is safe to call
// from inside Deliver (the socket is closed while being written to) and
// more than once.
func (s *Shard) Detach(c *Conn) {
	if !c.attached || c.gone {
		return
	}
	c.gone = true
	if s.delivering {
		s.detached = append(s.detached, c)
		return
	}
	s.unlink(c)
}

func (s *Shard) unlink(c *Conn) {
	for sub := c.subs; sub != nil; sub = sub.next {
		s.unplace(sub)
		s.hub.interner.Release(sub.Ident)
		s.hub.metrics.subDelta(sub.Channel(), -1)
	}
	c.subs = nil
	s.conns--
}

// Subscribe adds a subscription of c under the identifier literal raw, on
// topic (conv:<id> or user:<id>; empty for PresenceChannel, whose topics
// come with Watch). The caller has checked c.Find(raw) == nil and the
// per-socket limit.
func (s *Shard) Subscribe(c *Conn, raw []byte, ch cable.Channel, topicName string) *Sub {
	sub := &Sub{Conn: c, Ident: s.hub.interner.Intern(raw)}
	sub.main.sub, sub.main.ch = sub, ch
	if topicName != "" {
		s.place(&sub.main, topicName)
	}
	sub.next, c.subs = c.subs, sub
	s.hub.metrics.subDelta(ch, 1)
	return sub
}

// Unsubscribe removes one subscription.
func (s *Shard) Unsubscribe(sub *Sub) {
	for p := &sub.Conn.subs; *p != nil; p = &(*p).next {
		if *p == sub {
			*p, sub.next = sub.next, nil
			s.unplace(sub)
			s.hub.interner.Release(sub.Ident)
			s.hub.metrics.subDelta(sub.Channel(), -1)
			return
		}
	}
}

// Watch replaces the users a presence subscription watches.
func (s *Shard) Watch(sub *Sub, users []id.ID) {
	s.unwatch(sub)
	if len(users) == 0 {
		return
	}
	w := make([]slot, len(users))
	sub.watch = &w
	for i, u := range users {
		w[i].sub = sub
		s.place(&w[i], rkey.PresenceTopic(u))
	}
}

func (s *Shard) unwatch(sub *Sub) {
	if sub.watch == nil {
		return
	}
	w := *sub.watch
	for i := range w {
		s.remove(&w[i])
	}
	sub.watch = nil
}

func (s *Shard) unplace(sub *Sub) {
	if sub.main.topic != nil {
		s.remove(&sub.main)
	}
	s.unwatch(sub)
}

func (s *Shard) place(sl *slot, name string) {
	t := s.topics[name]
	if t == nil {
		t = &topic{name: name}
		s.topics[name] = t
	}
	ident := sl.sub.Ident
	gi := -1
	for i := range t.groups {
		if t.groups[i].ident == ident {
			gi = i
			break
		}
	}
	if gi < 0 {
		t.groups = append(t.groups, group{ident: ident})
		gi = len(t.groups) - 1
	}
	g := &t.groups[gi]
	sl.topic, sl.pos = t, int32(len(g.slots))
	g.slots = append(g.slots, sl)
}

func (s *Shard) remove(sl *slot) {
	t := sl.topic
	if t == nil {
		return
	}
	ident := sl.sub.Ident
	for gi := range t.groups {
		g := &t.groups[gi]
		if g.ident != ident {
			continue
		}
		last := len(g.slots) - 1
		moved := g.slots[last]
		g.slots[sl.pos] = moved
		moved.pos = sl.pos
		g.slots[last] = nil
		g.slots = g.slots[:last]
		if len(g.slots) == 0 {
			t.groups[gi] = t.groups[len(t.groups)-1]
			t.groups[len(t.groups)-1] = group{}
			t.groups = t.groups[:len(t.groups)-1]
		} else if cap(g.slots) > 64 && len(g.slots) < cap(g.slots)/4 {
			g.slots = append([]*slot(nil), g.slots...)
		}
		break
	}
	if len(t.groups) == 0 {
		delete(s.topics, t.name)
	}
	sl.topic = nil
}

// Deliver hands a batch of events, in stream order, to this shard's
// subscribers. It runs as one task on the loop per batch. Frames are
// queued per socket while the batch is routed and written at its end, one
// write per socket: when the edge is keeping up a batch is an event or
// two and nothing changes, and when a burst has built a backlog the
// batches grow and a socket's several frames go out in one writev, so the
// edge spends fewer syscalls per frame exactly when it needs to catch up.
func (s *Shard) Deliver(evs []*Event) {
	var frames int
	for _, ev := range evs {
		frames += s.deliver(ev)
	}
	s.flush()
	s.hub.metrics.framesDelivered(frames)
}

type pendingWrite struct {
	c          *Conn
	first      []byte
	head, tail int32 // the socket's further frames in Shard.more; -1 for none
}

type moreFrame struct {
	frame []byte
	next  int32
}

// queue adds frame to c's writes of this batch.
func (s *Shard) queue(c *Conn, frame []byte) {
	if c.batch == 0 {
		s.pend = append(s.pend, pendingWrite{c: c, first: frame, head: -1, tail: -1})
		c.batch = int32(len(s.pend))
		return
	}
	p := &s.pend[c.batch-1]
	i := int32(len(s.more))
	s.more = append(s.more, moreFrame{frame: frame, next: -1})
	if p.tail < 0 {
		p.head = i
	} else {
		s.more[p.tail].next = i
	}
	p.tail = i
}

// flush writes the batch's queued frames, then records the lags.
func (s *Shard) flush() {
	s.delivering = true
	for i := range s.pend {
		p := &s.pend[i]
		p.c.batch = 0
		switch {
		case p.c.gone:
		case p.head < 0:
			s.out.Send(p.c, p.first)
		default:
			iov := append(s.iov[:0], p.first)
			for j := p.head; j >= 0; j = s.more[j].next {
				iov = append(iov, s.more[j].frame)
			}
			s.out.SendMany(p.c, iov)
			clear(iov)
			s.iov = iov[:0]
		}
		*p = pendingWrite{}
	}
	s.pend = s.pend[:0]
	clear(s.more)
	s.more = s.more[:0]
	s.delivering = false
	for _, at := range s.lags {
		s.hub.metrics.lag(time.Since(at))
	}
	s.lags = s.lags[:0]
	s.settle()
}

func (s *Shard) deliver(ev *Event) int {
	if ev.Type == event.SessionRevoked {
		if ev.Channel == cable.CallChannel {
			s.revoke(ev.SID)
		}
		return 0
	}
	if ev.Type == event.MemberLeft {
		s.noteLeft(ev)
	}
	t := s.topics[ev.Topic]
	if t == nil {
		return 0
	}
	n := 0
	typing := ev.Type == event.Typing
	for gi := range t.groups {
		g := &t.groups[gi]
		var frame []byte
		for _, sl := range g.slots {
			sub := sl.sub
			c := sub.Conn
			if c.gone || typing && c.User == ev.Subject {
				continue
			}
			if ev.Seq > 0 {
				if ev.Seq <= sub.lastSeq {
					continue
				}
				sub.lastSeq = ev.Seq
			}
			if frame == nil {
				frame = ev.frame(g.ident)
			}
			s.queue(c, frame)
			n++
		}
	}
	if ev.Type == event.MemberLeft {
		s.collectLeaving(t, ev.Subject)
	}
	if n > 0 && !ev.Time.IsZero() {
		s.lags = append(s.lags, ev.Time)
	}
	s.settle()
	return n
}

// leftMemory is how long a member.left is remembered for Left.
const leftMemory = 30 * time.Second

func (s *Shard) noteLeft(ev *Event) {
	now := time.Now()
	if s.left == nil {
		s.left = make(map[[2]id.ID]time.Time)
	}
	for k, at := range s.left {
		if now.Sub(at) > leftMemory {
			delete(s.left, k)
		}
	}
	conv, err := id.Parse(ev.Topic[len(rkey.TopicConversation):])
	if err == nil {
		s.left[[2]id.ID{conv, ev.Subject}] = now
	}
}

// Left reports whether this shard delivered a member.left of user in conv
// at or after since. A subscribe answered by a membership check that
// started before the member left must not subscribe them: the check may
// have read the set before the api changed it.
func (s *Shard) Left(conv, user id.ID, since time.Time) bool {
	at, ok := s.left[[2]id.ID{conv, user}]
	return ok && !at.Before(since)
}

// collectLeaving notes the subscriptions of a user who left a conversation;
// settle removes them once the delivery ends.
func (s *Shard) collectLeaving(t *topic, user id.ID) {
	for gi := range t.groups {
		for _, sl := range t.groups[gi].slots {
			if sl.sub.Conn.User == user && !sl.sub.Conn.gone {
				s.leaving = append(s.leaving, sl.sub)
			}
		}
	}
}

// settle applies what had to wait for the end of a delivery: sockets that
// closed while being written to, and subscriptions of members who left.
func (s *Shard) settle() {
	for i, c := range s.detached {
		s.unlink(c)
		s.detached[i] = nil
	}
	s.detached = s.detached[:0]
	for i, sub := range s.leaving {
		s.leaving[i] = nil
		if sub.Conn.gone {
			continue
		}
		raw := sub.Ident.Raw
		s.Unsubscribe(sub)
		s.hub.metrics.removedMember()
		s.queue(sub.Conn, cable.AppendReject(nil, raw)) // after the member.left it follows
	}
	s.leaving = s.leaving[:0]
}

// revoke disconnects this shard's sockets of session sid, which the
// server's session index (see NewShard) hands it.
func (s *Shard) revoke(sid id.ID) {
	var victims []*Conn
	s.session(sid, func(c *Conn) {
		if c.SID == sid && c.attached {
			victims = append(victims, c)
		}
	})
	for _, c := range victims {
		if !c.gone {
			s.hub.metrics.revoked()
			s.out.Disconnect(c, cable.Unauthorized)
		}
	}
}
