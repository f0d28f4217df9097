package server

import (
	"context"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// mountCalls builds the call component on the messaging Env (its outbox and
// publisher: call events are events of the DM's log) and mounts its routes.
// The api only inserts River jobs (the missed-call job, in the transaction
// that creates the call); the worker works them.
func (s *Server) mountCalls(_ context.Context, r *rest.Router) error {
	d, env := s.deps, s.messaging
	jobs, err := river.NewClient(riverpgxv5.New(d.DB), &river.Config{Logger: d.Log.With("component", "river")})
	if err != nil {
		return err
	}
	call.New(call.Deps{
		DB: d.DB, IDs: d.IDs, Outbox: env.Outbox, Publisher: env.Publisher,
		Effects:     call.NewEffects(d.Redis, d.Keys, event.NewAppender(d.Streams, d.Keys, d.Cfg.StreamMaxLen), d.DB, env.Now),
		DMs:         dms{s.conversations},
		Jobs:        jobs,
		RingTimeout: d.Cfg.Calls.RingTimeout,
		ICE:         d.Cfg.Calls.ICE,
		Now:         env.Now,
		Log:         d.Log.With("component", "calls"),
	}).Mount(r)
	return nil
}

// dms finds or creates DMs through the conversation service, which makes
// the members, their member sets and member events, as for any new DM.
type dms struct{ svc *conversation.Service }

// FindOrCreateDM returns the DM of a and b, made by a if there was none.
func (d dms) FindOrCreateDM(ctx context.Context, a, b id.ID) (id.ID, error) {
	c, _, err := d.svc.Create(ctx, a, conversation.CreateInput{Kind: conversation.DM, MemberIDs: []id.ID{b}})
	return c.ID, err
}
