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

// command handles one client message. Every refusal of a well-formed
// command is silent or a reject_subscription, as Action Cable does;
// malformed and over-limit commands are struck against the socket.
func (l *loop) command(s *socket, payload []byte, now time.Time) {
	srv := l.srv
	srv.m.commands.Inc()
	if !s.cmds.take(srv.ms(now), float32(srv.cfg.CommandRate), float32(srv.cfg.CommandBurst)) {
		srv.m.drop("command_rate")
		s.strike(now)
		return
	}
	cmd, err := cable.ParseCommand(payload)
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
// back); a repeat of one still being checked waits for that check.
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
	switch ident.Channel {
	case cable.PresenceChannel:
		l.shard.Subscribe(&s.Conn, raw, cable.PresenceChannel, "")
		l.reply(s, raw, true)
	case cable.CallChannel:
		l.shard.Subscribe(&s.Conn, raw, cable.CallChannel, rkey.UserTopic(s.User))
		l.reply(s, raw, true)
	case cable.ConversationChannel:
		l.checkMember(s, raw, ident.ID, now)
	}
}

// checkMember asks the member set on the worker pool. No answer is sent
// when the set cannot be read or is missing: the client asks again in
// 500 ms, by which time the api has rebuilt it.
func (l *loop) checkMember(s *socket, raw []byte, conv id.ID, now time.Time) {
	x := s.ext()
	p := pendingSub{raw: bytes.Clone(raw), conv: conv, started: now}
	x.pending = append(x.pending, p)
	user, checker := s.User, l.srv.d.Authz
	ok := l.srv.pool.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ans, err := checker.Member(ctx, conv, user)
		cancel()
		l.post(func() { l.memberDone(s, p, ans, err) })
	})
	if !ok {
		l.srv.m.drop("busy")
		s.dropPending(p.raw)
	}
}

func (l *loop) memberDone(s *socket, p pendingSub, ans authz.Answer, err error) {
	if s.closed || !s.dropPending(p.raw) {
		return // closed, or unsubscribed while the check ran
	}
	switch {
	case err != nil:
		l.srv.m.drop("membership_unavailable")
	case ans == authz.Unknown:
		l.srv.m.drop("membership_unknown")
	case ans == authz.No || l.shard.Left(p.conv, s.User, p.started):
		l.reply(s, p.raw, false)
	case s.NumSubs() >= l.srv.cfg.MaxSubscriptions:
		l.reply(s, p.raw, false)
	default:
		l.shard.Subscribe(&s.Conn, p.raw, cable.ConversationChannel, rkey.ConversationTopic(p.conv))
		l.reply(s, p.raw, true)
	}
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
