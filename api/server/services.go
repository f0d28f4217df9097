package server

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/api/auth"
	"github.com/chatterly/chatterly/api/block"
	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/file"
	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/api/pin"
	"github.com/chatterly/chatterly/api/profile"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/reaction"
	"github.com/chatterly/chatterly/api/readstate"
	"github.com/chatterly/chatterly/api/saved"
	"github.com/chatterly/chatterly/api/search"
	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// services is every component of the api, built by buildServices from the
// dependencies before any route is mounted: what one component needs of
// another is passed here, by argument, never found through the router or
// the order of mounts.
type services struct {
	auth          *auth.Service
	conversations *conversation.Service
	messages      *message.Service
	files         *file.Service
	profiles      *profile.Service
	reactions     *reaction.Service
	pins          *pin.Service
	saved         *saved.Service
	search        *search.Service
	readState     *readstate.Service
	users         *user.Directory
	blocks        *block.Service
	calls         *call.Service
	notifications *mention.Settings
	// publisher appends the events of conversations' logs to the streams;
	// its marker loop runs for as long as the server (Server.New starts it).
	publisher *eventlog.Publisher
}

// buildServices builds the components in dependency order. The messaging
// components (conversations, messages, reactions, pins, read state) share one
// conversation.Env: one outbox, one publisher, one cache. Calls publish
// through that same outbox and publisher (call events are events of the
// DM's log) and find or create DMs through the conversation service. The
// api only inserts River jobs (the missed-call job, in the transaction that
// creates the call); the worker works them, and the relay that republishes
// what the publisher could not runs there too (api/worker).
func buildServices(d *Deps) (*services, error) {
	// Read d.Now at each call, so a test that swaps the clock is heard.
	now := func() time.Time { return d.Now() }
	limiter := ratelimit.New(d.Redis, d.Keys)
	userEvents := event.NewAppender(d.Streams, d.Keys, d.Cfg.StreamMaxLen)

	a, c := d.Cfg.Auth, d.Cfg.Messaging
	hasher, err := auth.NewHasher(a.Argon2Memory, a.Argon2Time, a.HashConcurrency)
	if err != nil {
		return nil, err
	}
	jobs, err := river.NewClient(riverpgxv5.New(d.DB), &river.Config{Logger: d.Log.With("component", "river")})
	if err != nil {
		return nil, err
	}

	limits := conversation.DefaultLimits()
	limits.Conversations.Max, limits.Messages.Max = c.ConversationsPerMin, c.MessagesPerMin
	limits.Reactions.Max, limits.UserSearch.Max = c.ReactionsPerMin, c.UserSearchPerMin
	limits.MessageSearch.Max = c.MessageSearchPerMin
	pub := eventlog.NewPublisher(eventlog.NewGuard(d.Streams, d.Keys, d.Cfg.StreamMaxLen, d.DB),
		d.DB, d.Log, c.PublishTimeout, d.Registerer())
	env := &conversation.Env{
		DB: d.DB, Replica: d.Replica, Keys: d.Keys, IDs: d.IDs, Now: now, Log: d.Log,
		Outbox:    eventlog.NewOutbox(d.IDs, now),
		Publisher: pub,
		Members:   membership.New(d.Redis, d.Keys, d.DB),
		Cache: cache.New(d.Redis, d.Keys, cache.Config{TTL: c.CacheTTL, LocalTTL: c.CacheLocalTTL, Lease: 2 * time.Second},
			d.Metrics),
		Limiter:    limiter,
		Limits:     limits,
		UserEvents: userEvents,
	}
	s := &services{publisher: pub}
	s.files = file.New(env, d.Files, d.Cfg.Files, d.FileKey)
	s.messages = message.New(env, mention.NewNotifier(d.DB, d.Redis, d.Keys, userEvents, d.IDs, now, d.Log), s.files)
	s.conversations = conversation.New(env, s.messages)
	s.reactions = reaction.New(env, s.messages, reaction.Caps{PerMessage: c.ReactionsPerMessage, PerUser: c.ReactionsPerUser})
	s.pins = pin.New(env, s.messages)
	s.saved = saved.New(env, s.messages)
	s.search = search.New(env, s.messages, c.SearchRankWindow)
	s.readState = readstate.New(env, s.messages)
	s.users = user.NewDirectory(d.Replica, limiter, limits.UserSearch)
	s.notifications = mention.NewSettings(env)
	s.blocks = block.New(d.DB, limiter, limits.Blocks, now)
	s.profiles = profile.New(d.DB, s.files, userEvents, limiter, now, d.Log)

	s.auth = auth.New(auth.Deps{
		DB: d.DB, IDs: d.IDs, Issuer: d.Issuer, Denylist: d.Checker.Denylist,
		Events:  userEvents,
		Limiter: limiter,
		Hasher:  hasher,
		Limits: auth.Limits{
			LoginFailures: ratelimit.Backoff{Free: a.LoginFreeFailures, First: a.LoginBackoff, Max: a.LoginBackoffMax,
				// A count outlives its wait by an hour: failing again within
				// it resumes from the wait reached, not from the free ones.
				Forget: time.Hour},
			LoginPerAddr:    a.LoginPerAddrPerMin,
			RegisterPerAddr: a.RegisterPerAddrPerMin,
		},
		Redis: d.Redis, Keys: d.Keys,
		RefreshTTL: a.RefreshTokenTTL, ReuseGrace: a.RefreshReuseGrace,
		Now: now,
		Log: d.Log,
	})
	s.calls = call.New(call.Deps{
		DB: d.DB, IDs: d.IDs, Outbox: env.Outbox, Publisher: pub,
		Effects:     call.NewEffects(d.Redis, d.Keys, userEvents, d.DB, now),
		DMs:         dms{s.conversations},
		Jobs:        jobs,
		RingTimeout: d.Cfg.Calls.RingTimeout,
		ICE:         d.Cfg.Calls.ICE,
		Limiter:     limiter,
		Limits:      d.Cfg.Calls.Limits,
		Now:         now,
		Log:         d.Log.With("component", "calls"),
	})
	return s, nil
}

// dms finds or creates DMs through the conversation service, which makes
// the members, their member sets and member events, as for any new DM.
type dms struct{ svc *conversation.Service }

// FindOrCreateDM returns the DM of a and b, made by a if there was none.
func (d dms) FindOrCreateDM(ctx context.Context, a, b id.ID) (id.ID, error) {
	c, _, err := d.svc.Create(ctx, a, conversation.CreateInput{Kind: conversation.DM, MemberIDs: []id.ID{b}})
	return c.ID, err
}
