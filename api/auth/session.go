package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
)

// denyMargin is added to a session's access_until when it goes on the
// denylist: the api that signed the token, Redis that expires the key and
// the process that checks it each have their own clock.
const denyMargin = time.Minute

// maxRefreshToken bounds what is hashed of a presented refresh token; real
// ones are 43 characters.
const maxRefreshToken = 256

// pair is what a session hands its client: an access token and the
// session's current refresh token (whose hash alone is stored).
type pair struct {
	Access      string
	Claims      token.Claims
	Refresh     string
	RefreshHash []byte
}

// newPair signs an access token for user in session sid and makes a fresh
// refresh token.
func (s *Service) newPair(uid, sid id.ID) (pair, error) {
	raw, cl, err := s.Issuer.Issue(uid, sid)
	if err != nil {
		return pair{}, fault.Wrap(err, "issue access token")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return pair{}, fault.Wrap(err, "make refresh token")
	}
	rt := base64.RawURLEncoding.EncodeToString(b[:])
	return pair{Access: raw, Claims: cl, Refresh: rt, RefreshHash: hashRefresh(rt)}, nil
}

func hashRefresh(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// startSession creates a session for uid in tx and returns its first pair.
func (s *Service) startSession(ctx context.Context, tx store, uid id.ID, now time.Time) (pair, error) {
	ss := session{ID: s.IDs.Next(), UserID: uid, ExpiresAt: now.Add(s.RefreshTTL)}
	p, err := s.newPair(uid, ss.ID)
	if err != nil {
		return pair{}, err
	}
	ss.AccessUntil = p.Claims.ExpiresAt
	if err := tx.insertSession(ctx, ss, p.RefreshHash, now); err != nil {
		return pair{}, err
	}
	return p, nil
}

// Refresh failures. Every one is a 401: the client must sign in again.
var (
	errRefreshUnknown = fault.New(fault.Unauthorized, "invalid refresh token")
	errRefreshEnded   = fault.New(fault.Unauthorized, "the session has ended; sign in again")
	errRefreshReused  = fault.New(fault.RefreshReused, "the refresh token was already used; the session has been ended")
)

// exchange rotates the refresh token raw: it returns a new pair, or ends
// the session when raw was already rotated (reuse) outside the reuse grace
// (session_grace.go).
func (s *Service) exchange(ctx context.Context, raw string) (pair, error) {
	if raw == "" || len(raw) > maxRefreshToken {
		return pair{}, errRefreshUnknown
	}
	old := hashRefresh(raw)
	now := s.Now()
	var (
		next  pair
		ended *session // set when reuse ended the session
		fail  error    // a refusal; the transaction still commits
	)
	err := s.st.inTx(ctx, s.DB, func(tx store) error {
		p, err := tx.lockRefresh(ctx, old)
		switch {
		case errors.Is(err, errNotFound):
			fail = errRefreshUnknown
			return nil
		case err != nil:
			return err
		case p.Revoked:
			fail = errRefreshEnded
			return nil
		case p.Rotated:
			var ok bool
			if next, ok, err = s.successor(ctx, tx, raw, p, now); err != nil || ok {
				return err
			}
			ss, err := tx.revokeSession(ctx, p.UserID, p.ID, reasonRefreshReused, now)
			ended, fail = &ss, errRefreshReused
			return err
		case !now.Before(p.ExpiresAt):
			fail = errRefreshEnded
			return nil
		}
		if next, err = s.newPair(p.UserID, p.ID); err != nil {
			return err
		}
		ss := p.session
		ss.ExpiresAt, ss.AccessUntil = now.Add(s.RefreshTTL), next.Claims.ExpiresAt
		if err := tx.rotate(ctx, ss, old, next.RefreshHash, now); err != nil {
			return err
		}
		s.keepSuccessor(ctx, raw, next.Refresh)
		return nil
	})
	if err != nil {
		return pair{}, fault.Wrap(err, "refresh")
	}
	if ended != nil {
		if err := s.announce(ctx, []session{*ended}); err != nil {
			return pair{}, err
		}
	}
	if fail != nil {
		return pair{}, fail
	}
	return next, nil
}

// announce finishes ending sessions the database has already revoked: each
// sid goes on the denylist until its last access token expires (plus a
// margin), and session.revoked goes to the user's topic for the edges.
// Every step is idempotent, so a caller that fails here can be retried.
func (s *Service) announce(ctx context.Context, ended []session) error {
	var errs []error
	for _, ss := range ended {
		if err := s.Denylist.Revoke(ctx, ss.ID, ss.AccessUntil.Add(denyMargin)); err != nil {
			errs = append(errs, err)
			continue
		}
		data, _ := json.Marshal(event.SessionRevokedData{UserID: ss.UserID, SID: ss.ID})
		env := event.Envelope{Type: event.SessionRevoked, At: s.Now(), Data: data}
		if _, err := s.Events.AppendEvent(ctx, rkey.UserTopic(ss.UserID), env); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &fault.Error{Code: fault.Unavailable, Message: "the session was ended but could not be revoked everywhere; retry",
			RetryAfter: time.Second, Err: fmt.Errorf("announce %d sessions: %w", len(ended), errors.Join(errs...))}
	}
	return nil
}
