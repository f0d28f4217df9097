package server

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/chatterly/chatterly/edge/authz"
	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
)

// command handles one client message. Every subscribe is answered (the
// official client re-sends one until it hears back); other refusals are
// silent, as Action Cable's are; malformed and over-limit commands are
// struck against the socket.
func (l *loop) command(s *socket, payload []byte, now time.Time) {
	srv := l.srv
	srv.m.commands.Inc()
	if !s.cmds.take(srv.ms(now), float32(srv.cfg.CommandRate), float32(srv.cfg.CommandBurst)) {
		srv.m.drop("command_rate")
		s.strike(now)
		return
	}
	cmd, err := cable.ParseCommand(payload)
	if errors.Is(err, cable.ErrIdentifierTooLong) && cmd.Kind == cable.Subscribe {
		l.reply(s, cmd.Identifier, false)
	}
	if err != nil {
		s.strike(now)
		return
	}
	switch cmd.Kind {
	case cable.Subscribe:
		l.subscribe(s, cmd, now)
	case cable.Unsubscribe:
		if sub := s.Find(cmd.Identifier); sub != nil {
			l.shard.Unsubscribe(sub)
		} else {
			s.dropPending(cmd.Identifier)
		}
	case cable.Message:
		l.message(s, cmd, now)
	}
}

// subscribe answers a subscribe. A repeat of a confirmed subscription is
// confirmed again (the official client repeats subscribe until it hears
// back); a repeat of one still being checked is answered when that check
// ends. One socket holds one subscription per topic: an identifier spelled
// differently (member order, whitespace, escapes, other params) for a topic
// the socket already has, or is checking, is rejected, and the first
// subscription goes on alone, so no event is delivered twice.
func (l *loop) subscribe(s *socket, cmd cable.Command, now time.Time) {
	raw := cmd.Identifier
	if s.Find(raw) != nil {
		l.reply(s, raw, true)
		return
	}
	if s.pendingIndex(raw) >= 0 {
		return
	}
	ident, err := cable.ParseIdentifier(cmd.Params)
	if err != nil {
		l.reply(s, raw, false)
		if !errors.Is(err, cable.ErrUnknownChannel) {
			s.strike(now)
		}
		return
	}
	if s.NumSubs()+s.pendingCount() >= l.srv.cfg.MaxSubscriptions {
		l.srv.m.drop("max_subscriptions")
		l.reply(s, raw, false)
		return
	}
	var topic string
	switch ident.Channel {
	case cable.ConversationChannel:
		topic = rkey.ConversationTopic(ident.ID)
	case cable.CallChannel:
		topic = rkey.UserTopic(s.User)
	}
	if s.FindTopic(ident.Channel, topic) != nil || (ident.Channel == cable.ConversationChannel && s.pendingConv(ident.ID)) {
		l.srv.m.drop("duplicate_topic")
		l.reply(s, raw, false)
		return
	}
	switch ident.Channel {
	case cable.PresenceChannel, cable.CallChannel:
		l.shard.Subscribe(&s.Conn, raw, ident.Channel, topic)
		l.reply(s, raw, true)
	case cable.ConversationChannel:
		l.checkMember(s, raw, ident.ID, now)
	}
}

// memberRetry is how soon a missing member set is asked again.
const memberRetry = 150 * time.Millisecond

// checkMember asks the member set on the worker pool, within RedisTimeout
// of the subscribe. A member is confirmed as soon as the answer comes. Not
// a member and no such conversation (its set is missing) are both answered
// reject_subscription at one moment, RedisTimeout after the subscribe
// (rejectAt), so neither the answer nor its timing tells a conversation
// that does not exist from one the caller may not see. A missing set is
// asked again until then: the api rebuilds a member's lost set (Redis
// restarted empty) when it serves that conversation, which a reconnecting
// client does at the same time.
//
// When the edge cannot check at all — Redis does not answer in time, or the
// worker pool is full — the socket is closed with "unavailable" (reconnect
// true) rather than rejected: a client never subscribes again after a
// reject (the official one gives the subscription up for good), so a
// member rejected for the edge's own trouble would silently stop receiving
// the conversation. Reconnecting re-subscribes everything and recovers the
// missed events by after_seq. The outcome depends on Redis, not on the
// conversation, so it reveals nothing about it.
func (l *loop) checkMember(s *socket, raw []byte, conv id.ID, now time.Time) {
	x := s.ext()
	p := pendingSub{raw: bytes.Clone(raw), conv: conv, started: now}
	x.pending = append(x.pending, p)
	l.askMember(s, p)
}

func (l *loop) askMember(s *socket, p pendingSub) {
	user, checker := s.User, l.srv.d.Authz
	deadline := p.started.Add(l.srv.cfg.RedisTimeout)
	ok := l.srv.pool.submit(func(ctx context.Context) {
		ctx, cancel := context.WithDeadline(ctx, deadline)
		ans, err := checker.Member(ctx, p.conv, user)
		cancel()
		l.post(func() { l.memberDone(s, p, ans, err) })
	})
	if !ok {
		l.srv.m.drop("busy")
		s.Disconnect(cable.Unavailable)
	}
}

func (l *loop) memberDone(s *socket, p pendingSub, ans authz.Answer, err error) {
	if s.closed || !s.holds(p) {
		return // closed, or unsubscribed while the check ran
	}
	deadline := p.started.Add(l.srv.cfg.RedisTimeout)
	switch {
	case err != nil:
		l.srv.m.drop("membership_unavailable")
		s.Disconnect(cable.Unavailable)
	case ans == authz.Unknown && time.Until(deadline) > memberRetry:
		time.AfterFunc(memberRetry, func() {
			l.post(func() {
				if !s.closed && s.holds(p) {
					l.askMember(s, p)
				}
			})
		})
	case ans == authz.Yes && !l.shard.Left(p.conv, s.User, p.started) && s.NumSubs() < l.srv.cfg.MaxSubscriptions:
		s.dropPending(p.raw)
		l.shard.Subscribe(&s.Conn, p.raw, cable.ConversationChannel, rkey.ConversationTopic(p.conv))
		l.reply(s, p.raw, true)
	default: // not a member, no such conversation, left meanwhile, or full
		l.rejectAt(s, p)
	}
}

// rejectAt rejects pending subscribe p RedisTimeout after it came, unless
// the socket closed or unsubscribed by then.
func (l *loop) rejectAt(s *socket, p pendingSub) {
	reject := func() {
		if !s.closed && s.holds(p) {
			s.dropPending(p.raw)
			l.reply(s, p.raw, false)
		}
	}
	wait := time.Until(p.started.Add(l.srv.cfg.RedisTimeout))
	if wait <= 0 {
		reject()
		return
	}
	time.AfterFunc(wait, func() { l.post(reject) })
}

// reply sends confirm_subscription or reject_subscription for raw.
func (l *loop) reply(s *socket, raw []byte, confirm bool) {
	if confirm {
		l.scratch = cable.AppendConfirm(l.scratch[:0], raw)
	} else {
		l.scratch = cable.AppendReject(l.scratch[:0], raw)
	}
	s.Send(l.scratch)
}

// message runs a channel action of an existing subscription.
func (l *loop) message(s *socket, cmd cable.Command, now time.Time) {
	sub := s.Find(cmd.Identifier)
	if sub == nil {
		s.strike(now)
		return
	}
	act, err := cable.ParseAction(cmd.Data)
	if err != nil {
		s.strike(now)
		return
	}
	switch {
	case sub.Channel() == cable.ConversationChannel && act.Name == "typing":
		l.typing(s, sub.Conv(), now)
	case sub.Channel() == cable.PresenceChannel && act.Name == "watch":
		l.watch(s, sub, act.Raw, now)
	case sub.Channel() == cable.CallChannel && act.Name == "send_signal":
		l.signal(s, act.Raw, now)
	default:
		s.strike(now)
	}
}

func (s *socket) pendingIndex(raw []byte) int {
	if s.aux == nil {
		return -1
	}
	for i, p := range s.aux.pending {
		if bytes.Equal(p.raw, raw) {
			return i
		}
	}
	return -1
}

// holds reports whether p is still being checked: not unsubscribed, nor
// unsubscribed and subscribed again (a new check of the same identifier).
func (s *socket) holds(p pendingSub) bool {
	i := s.pendingIndex(p.raw)
	return i >= 0 && s.aux.pending[i].started.Equal(p.started)
}

// pendingConv reports whether a subscribe to conversation conv is being
// checked, under any spelling.
func (s *socket) pendingConv(conv id.ID) bool {
	if s.aux == nil {
		return false
	}
	for _, p := range s.aux.pending {
		if p.conv == conv {
			return true
		}
	}
	return false
}

func (s *socket) pendingCount() int {
	if s.aux == nil {
		return 0
	}
	return len(s.aux.pending)
}

// dropPending forgets a running check of raw and reports whether there
// was one.
func (s *socket) dropPending(raw []byte) bool {
	i := s.pendingIndex(raw)
	if i < 0 {
		return false
	}
	p := s.aux.pending
	p[i] = p[len(p)-1]
	p[len(p)-1] = pendingSub{}
	s.aux.pending = p[:len(p)-1]
	s.tidy()
	return true
}
