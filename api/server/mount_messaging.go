package server

import (
	"context"
	"sync"
	"time"

	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/reaction"
	"github.com/chatterly/chatterly/api/readstate"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/event"
)

// mountMessaging builds the messaging components (conversations, messages,
// reactions, read state, the user directory) on one shared Env, mounts
// their routes, and starts the publisher's marker loop; its stop, appended
// to s.stops, waits for it to finish. The relay that republishes what the
// publisher could not runs in the worker (api/worker), not here.
func (s *Server) mountMessaging(ctx context.Context, r *rest.Router) error {
	d, c := s.deps, s.deps.Cfg.Messaging
	now := func() time.Time { return d.Now() }
	guard := eventlog.NewGuard(d.Streams, d.Keys, d.Cfg.StreamMaxLen, d.DB)
	pub := eventlog.NewPublisher(guard, d.DB, d.Log, c.PublishTimeout, d.Metrics)
	members := membership.New(d.Redis, d.Keys, d.DB)
	limiter := ratelimit.New(d.Redis, d.Keys)
	limits := conversation.DefaultLimits()
	limits.Conversations.Max, limits.Messages.Max = c.ConversationsPerMin, c.MessagesPerMin
	limits.Reactions.Max, limits.UserSearch.Max = c.ReactionsPerMin, c.UserSearchPerMin
	env := &conversation.Env{
		DB: d.DB, Replica: d.Replica, Keys: d.Keys, IDs: d.IDs, Now: now, Log: d.Log,
		Outbox:    eventlog.NewOutbox(d.IDs, now),
		Publisher: pub,
		Members:   members,
		Cache: cache.New(d.Redis, d.Keys, cache.Config{TTL: c.CacheTTL, LocalTTL: c.CacheLocalTTL, Lease: 2 * time.Second},
			d.Metrics),
		Limiter:    limiter,
		Limits:     limits,
		UserEvents: event.NewAppender(d.Streams, d.Keys, d.Cfg.StreamMaxLen),
	}
	messages := message.New(env)
	s.messaging, s.conversations = env, conversation.New(env, messages)
	s.conversations.Mount(r)
	messages.Mount(r)
	reaction.New(env, messages).Mount(r)
	readstate.New(env, messages).Mount(r)
	user.NewDirectory(d.Replica, limiter, limits.UserSearch).Mount(r)

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); pub.Run(bg) }()
	s.stops = append(s.stops, func() { cancel(); wg.Wait() })
	return nil
}
