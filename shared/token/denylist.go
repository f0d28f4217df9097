package token

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// Denylist holds revoked sessions in Redis until their last access token
// would have expired. Lookups go through rueidis client-side caching: a
// repeated check is answered from process memory, and Redis invalidates
// that memory the moment the key is written, so a revocation is seen at once.
type Denylist struct {
	rdb  rueidis.Client
	keys rkey.Space
	// cacheTTL bounds how long a cached answer may live even without an
	// invalidation (belt and braces should a tracking message be lost with
	// a dropped connection; rueidis also flushes its cache on reconnect).
	cacheTTL time.Duration

	// mine holds the sessions this Denylist revoked itself, until their
	// entries expire, and those Announced to it. Redis pushes the
	// invalidation of a cached "not revoked" answer asynchronously, on
	// whichever pooled connection read it, so without this a check made
	// right after Revoke returns (the next request of a client that just
	// logged out) could still be answered from memory. Other processes
	// rely on the push, which Redis sends as the SET runs, and on the
	// session.revoked event (Announced), which may reach them first.
	mu   sync.RWMutex
	mine map[id.ID]time.Time
}

// NewDenylist returns a Denylist on rdb.
func NewDenylist(rdb rueidis.Client, keys rkey.Space) *Denylist {
	return &Denylist{rdb: rdb, keys: keys, cacheTTL: time.Minute, mine: map[id.ID]time.Time{}}
}

// sweepAt is the size of mine above which Revoke drops expired entries.
const sweepAt = 1024

// Revoke denies session sid until until.
func (d *Denylist) Revoke(ctx context.Context, sid id.ID, until time.Time) error {
	ms := until.UnixMilli() // Redis needs a future expiry
	if ms <= time.Now().UnixMilli() {
		return nil // every token of the session has expired already
	}
	cmd := d.rdb.B().Set().Key(d.keys.Denied(sid)).Value("1").Pxat(until).Build()
	if err := d.rdb.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("denylist: revoke: %w", err)
	}
	d.remember(sid, until)
	return nil
}

// Announced notes that session sid was revoked elsewhere (an edge reading
// its session.revoked event): it is denied from now on, whatever this
// process still has cached, until its cached answers could no longer be
// the stale "not revoked" (the cache's lifetime; Redis answers after).
// Without it, a handshake right after the event that disconnected the
// session's sockets could be welcomed on that cached answer while Redis's
// invalidation was still on its way (seen on a Redis Cluster).
func (d *Denylist) Announced(sid id.ID) {
	d.remember(sid, time.Now().Add(d.cacheTTL))
}

// remember denies sid from memory until until.
func (d *Denylist) remember(sid id.ID, until time.Time) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.mine) >= sweepAt {
		for k, exp := range d.mine {
			if !now.Before(exp) {
				delete(d.mine, k)
			}
		}
	}
	if until.After(d.mine[sid]) {
		d.mine[sid] = until
	}
}

// Revoked reports whether session sid is denied. A repeated check is
// answered from process memory until Redis says the key changed.
func (d *Denylist) Revoked(ctx context.Context, sid id.ID) (bool, error) {
	d.mu.RLock()
	exp, mine := d.mine[sid]
	d.mu.RUnlock()
	if mine && time.Now().Before(exp) {
		return true, nil
	}
	cmd := d.rdb.B().Get().Key(d.keys.Denied(sid)).Cache()
	err := d.rdb.DoCache(ctx, cmd, d.cacheTTL).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("denylist: %w", err)
	}
	return true, nil
}

// Checker is the whole auth check: signature and expiry (cached), then the
// denylist (always).
type Checker struct {
	Verifier *Verifier
	Denylist *Denylist
}

// Check returns the claims of a valid, unrevoked token. A denylist that
// cannot be read is an error of its own (not ErrRevoked): callers answer it
// as unavailable rather than let a revoked token through.
func (c *Checker) Check(ctx context.Context, raw string) (Claims, error) {
	cl, err := c.Verifier.Verify(raw)
	if err != nil {
		return Claims{}, err
	}
	revoked, err := c.Denylist.Revoked(ctx, cl.SID)
	if err != nil {
		return Claims{}, err
	}
	if revoked {
		return Claims{}, ErrRevoked
	}
	return cl, nil
}
