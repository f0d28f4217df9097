// Package auth is the api's authentication: registration, sign-in, the
// session lifecycle (refresh-token rotation, logout, logout everywhere,
// password change) and the current user.
//
// A session is one refresh-token family; its id is the "sid" claim of every
// access token issued in it. Refresh tokens are opaque random strings stored
// as SHA-256 hashes and rotated on every use; presenting a rotated one again
// means it was stolen (or replayed), and ends the whole session. Ending a
// session revokes it in Postgres (refresh stops working), puts its sid on
// the Redis denylist until its last access token expires (every access
// check sees it at once), and publishes session.revoked on the user's
// stream topic (edges drop the session's sockets).
//
// Two exceptions keep browsers signed in (session_grace.go and cookie.go):
// a rotated refresh token presented again within ReuseGrace of its
// rotation gets its successor back instead of ending the session, and a
// page of an allowed origin holds its refresh token in an HttpOnly cookie,
// never in the JSON it can read.
package auth

import (
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Deps is what the auth service is built from.
type Deps struct {
	DB       *pgxpool.Pool
	IDs      *id.Generator
	Issuer   *token.Issuer
	Denylist *token.Denylist
	// Events appends session.revoked to the user's stream topic.
	Events  *event.Appender
	Limiter *ratelimit.Limiter
	Hasher  *Hasher
	Limits  Limits
	// Redis keeps the sealed successors of the reuse grace, under Keys.
	Redis rueidis.Client
	Keys  rkey.Space
	// RefreshTTL is how long a session lasts without being refreshed.
	RefreshTTL time.Duration
	// ReuseGrace is how long after a rotation the rotated refresh token
	// still gets its successor back (0: reuse always ends the session).
	ReuseGrace time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

// Service serves the auth routes.
type Service struct {
	Deps
	st store
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{Deps: d, st: store{q: d.DB}}
}

// bodyLimit is the request body limit of the auth routes: the largest
// valid body (a 256-byte password, JSON-escaped, and an email) is well
// under it.
const bodyLimit = 8 << 10

// Mount adds the auth routes to r. Register, login and refresh are public:
// they are how a caller gets a token.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/auth/register", s.register, rest.Public(), rest.MaxBody(bodyLimit))
	r.Handle("POST", "/auth/login", s.login, rest.Public(), rest.MaxBody(bodyLimit))
	r.Handle("POST", "/auth/refresh", s.refresh, rest.Public(), rest.MaxBody(bodyLimit))
	r.Handle("DELETE", "/auth/logout", s.logout)
	r.Handle("DELETE", "/auth/sessions", s.logoutEverywhere)
	r.Handle("GET", "/me", s.me)
	r.Handle("PUT", "/me/password", s.changePassword, rest.MaxBody(bodyLimit))
}
