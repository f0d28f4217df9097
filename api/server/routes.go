package server

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/api/auth"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/stream"
)

// routes registers every component's routes, in the order listed: add one
// line per component. Components that run background loops append their
// stop functions to s.stops.
func (s *Server) routes(ctx context.Context, r *rest.Router) error {
	for _, mount := range []func(context.Context, *rest.Router) error{
		s.mountAuth,
		s.mountMessaging,
		s.mountCalls,
	} {
		if err := mount(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// mountAuth builds the authentication component from the shared
// dependencies and mounts its routes.
func (s *Server) mountAuth(_ context.Context, r *rest.Router) error {
	d, c := s.deps, s.deps.Cfg.Auth
	h, err := auth.NewHasher(c.Argon2Memory, c.Argon2Time, c.HashConcurrency)
	if err != nil {
		return err
	}
	auth.New(auth.Deps{
		DB: d.DB, IDs: d.IDs, Issuer: d.Issuer, Denylist: d.Checker.Denylist,
		Events:  stream.NewAppender(d.Streams, d.Keys, d.Cfg.StreamMaxLen),
		Limiter: ratelimit.New(d.Redis, d.Keys),
		Hasher:  h,
		Limits: auth.Limits{
			LoginPerAccount: c.LoginPerAccountPerMin,
			LoginPerAddr:    c.LoginPerAddrPerMin,
			RegisterPerAddr: c.RegisterPerAddrPerMin,
		},
		Redis: d.Redis, Keys: d.Keys,
		RefreshTTL: c.RefreshTokenTTL, ReuseGrace: c.RefreshReuseGrace,
		// Read d.Now at each call, so a test that swaps the clock is heard.
		Now: func() time.Time { return d.Now() },
		Log: d.Log,
	}).Mount(r)
	return nil
}
