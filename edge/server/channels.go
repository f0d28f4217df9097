package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/edge/presence"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
)

// The channels' actions. Each relays through the shard streams, never
// straight to local sockets, so every edge delivers it the same way and
// in stream order.

// typing relays "typing" to the conversation, at most once per user and
// conversation per TypingInterval. The hub keeps it from the sender.
func (l *loop) typing(s *socket, conv id.ID, now time.Time) {
	srv := l.srv
	if !srv.typing.allow(s.User, conv, now) {
		srv.m.drop("typing_rate")
		return
	}
	data, _ := json.Marshal(struct {
		UserID id.ID `json:"user_id"`
	}{s.User})
	env, _ := event.Encode(event.Envelope{Type: event.Typing, ConversationID: conv, At: now, Data: data})
	l.appendEvent(rkey.ConversationTopic(conv), env, "typing")
}

// watch replaces the users a presence subscription watches and sends it a
// snapshot of their state. The topics are joined before the snapshot is
// read, so no change can fall between the two.
func (l *loop) watch(s *socket, sub *hub.Sub, raw []byte, now time.Time) {
	var w struct {
		UserIDs []id.ID `json:"user_ids"`
	}
	if err := json.Unmarshal(raw, &w); err != nil || len(w.UserIDs) > l.srv.cfg.MaxWatch {
		l.srv.m.drop("bad_watch")
		s.strike(now)
		return
	}
	seen := make(map[id.ID]bool, len(w.UserIDs))
	users := w.UserIDs[:0]
	for _, u := range w.UserIDs {
		if !seen[u] {
			seen[u] = true
			users = append(users, u)
		}
	}
	l.shard.Watch(sub, users)
	if len(users) == 0 {
		return
	}
	tracker, timeout := l.srv.d.Presence, l.srv.cfg.RedisTimeout
	ok := l.srv.pool.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		states, err := tracker.Snapshot(ctx, users)
		cancel()
		if err != nil {
			l.srv.m.drop("presence_unavailable")
			return
		}
		msg := presence.Envelope(states, time.Now())
		l.post(func() {
			if !s.closed && s.Find(sub.Ident.Raw) == sub {
				s.Send(cable.AppendBroadcast(nil, sub.Ident.Raw, msg))
			}
		})
	})
	if !ok {
		l.srv.m.drop("busy")
	}
}

type signalIn struct {
	CallID  id.ID           `json:"call_id"`
	To      id.ID           `json:"to"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

type signalOut struct {
	CallID  id.ID           `json:"call_id"`
	From    id.ID           `json:"from"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// signal relays an SDP offer or answer or an ICE candidate to the other
// participant of a live call, on the user topic every edge listens to.
func (l *loop) signal(s *socket, raw []byte, now time.Time) {
	srv := l.srv
	var in signalIn
	if err := json.Unmarshal(raw, &in); err != nil || in.CallID == 0 || in.To == 0 || len(in.Payload) == 0 {
		srv.m.drop("bad_signal")
		s.strike(now)
		return
	}
	switch in.Kind {
	case "offer", "answer", "ice":
	default:
		srv.m.drop("bad_signal")
		s.strike(now)
		return
	}
	if len(in.Payload) > srv.cfg.MaxSignalBytes {
		srv.m.drop("signal_too_large")
		return
	}
	data, _ := json.Marshal(signalOut{CallID: in.CallID, From: s.User, Kind: in.Kind, Payload: in.Payload})
	env, _ := event.Encode(event.Envelope{Type: event.CallSignal, At: now, Data: data})
	from, checker := s.User, srv.d.Authz
	ok := srv.pool.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, srv.cfg.RedisTimeout)
		defer cancel()
		peers, err := checker.CallPeers(ctx, in.CallID, from, in.To)
		if err != nil || !peers {
			srv.m.drop("not_participant")
			return
		}
		if _, err := srv.d.Appender.Append(ctx, rkey.UserTopic(in.To), env); err != nil {
			srv.m.drop("stream_unavailable")
			return
		}
		srv.m.relay("call.signal")
	})
	if !ok {
		srv.m.drop("busy")
	}
}

// appendEvent appends an edge-made event on the worker pool.
func (l *loop) appendEvent(topic string, env []byte, kind string) {
	srv := l.srv
	ok := srv.pool.submit(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, srv.cfg.RedisTimeout)
		defer cancel()
		if _, err := srv.d.Appender.Append(ctx, topic, env); err != nil {
			srv.m.drop("stream_unavailable")
			return
		}
		srv.m.relay(kind)
	})
	if !ok {
		srv.m.drop("busy")
	}
}
