package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/redis/rueidis"
)

// The reuse grace. A browser's tabs share one refresh cookie: two tabs
// reloaded together both present it, and a tab reloaded in the middle of a
// refresh never reads the answer that rotated it (the cookie was replaced,
// but the next page may already have sent the old one). Either would look
// like a stolen token and end the session. So, for ReuseGrace after its
// rotation, a rotated refresh token gets its successor back — the same
// refresh token the first exchange returned, with a freshly signed access
// token — instead of ending the session. Outside the grace, and for a
// successor that is itself gone (session ended, expired), reuse ends the
// session as before.
//
// The successor is kept in Redis, sealed with the token it replaces: the
// seal key is a SHA-256 of the raw predecessor under its own label, which
// the server never stores (Postgres holds the plain SHA-256), so a reader
// of Redis or Postgres learns nothing usable; whoever presents the
// predecessor could have raced the legitimate exchange anyway. The entry
// lives a little longer than the grace; whether the grace still holds is
// decided by rotated_at and the service's clock, not by the entry's TTL.
//
// The web client also runs one refresh at a time across its tabs (Web
// Locks), so the grace is the safety net for what a lock cannot cover: a
// page unloaded while its refresh was in flight.

// maxGraceHops bounds how far along a session's rotations a grace answer
// follows (a tab that missed two quick rotations in a row still lands on
// the current token).
const maxGraceHops = 3

// sealLabel separates the seal key from the stored hash of the same token.
const sealLabel = "chatterly refresh successor seal\x00"

// seal XORs the 32 random bytes of a refresh token with a key derived from
// the token it replaces; it is its own inverse.
func seal(predecessor string, b []byte) []byte {
	k := sha256.Sum256([]byte(sealLabel + predecessor))
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ k[i%len(k)]
	}
	return out
}

// keepSuccessor stores next, the successor of raw, for the grace. It runs
// inside the rotating transaction, before the commit, so an exchange that
// waited on the session's row lock finds it as soon as it sees the
// rotation (one Redis round trip under a lock only this session's refreshes
// contend for). A failure is logged and costs the grace only.
func (s *Service) keepSuccessor(ctx context.Context, raw, next string) {
	if s.ReuseGrace <= 0 || s.Redis == nil {
		return
	}
	b, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		s.Log.ErrorContext(ctx, "refresh token is not base64url", "err", err)
		return
	}
	key := s.Keys.RefreshGrace(hashRefresh(raw))
	cmd := s.Redis.B().Set().Key(key).Value(string(seal(raw, b))).Px(2 * s.ReuseGrace).Build()
	if err := s.Redis.Do(ctx, cmd).Error(); err != nil {
		s.Log.WarnContext(ctx, "could not keep the refresh successor; a repeated refresh will end the session", "err", err)
	}
}

// successor answers a rotated token p (raw) presented again within the
// grace: the current refresh token of its session, found through the
// sealed successors, with a new access token. ok is false when the grace
// does not apply; the caller then treats the presentation as reuse.
func (s *Service) successor(ctx context.Context, tx store, raw string, p presented, now time.Time) (next pair, ok bool, err error) {
	if s.ReuseGrace <= 0 || s.Redis == nil {
		return pair{}, false, nil
	}
	for range maxGraceHops {
		if !p.Rotated {
			break
		}
		if now.Sub(p.RotatedAt) >= s.ReuseGrace {
			return pair{}, false, nil
		}
		sealed, err := s.Redis.Do(ctx, s.Redis.B().Get().Key(s.Keys.RefreshGrace(hashRefresh(raw))).Build()).AsBytes()
		if rueidis.IsRedisNil(err) {
			return pair{}, false, nil
		}
		if err != nil {
			return pair{}, false, fault.Wrap(err, "read refresh successor")
		}
		raw = base64.RawURLEncoding.EncodeToString(seal(raw, sealed))
		q, err := tx.lockRefresh(ctx, hashRefresh(raw))
		if errors.Is(err, errNotFound) {
			return pair{}, false, nil
		}
		if err != nil {
			return pair{}, false, err
		}
		if q.ID != p.ID || q.Revoked || !now.Before(q.ExpiresAt) {
			return pair{}, false, nil
		}
		p = q
	}
	if p.Rotated {
		return pair{}, false, nil
	}
	access, cl, err := s.Issuer.Issue(p.UserID, p.ID)
	if err != nil {
		return pair{}, false, fault.Wrap(err, "issue access token")
	}
	ss := p.session
	ss.AccessUntil = cl.ExpiresAt
	if err := tx.extendSession(ctx, ss, now); err != nil {
		return pair{}, false, err
	}
	return pair{Access: access, Claims: cl, Refresh: raw, RefreshHash: hashRefresh(raw)}, true, nil
}
