package token

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// The same client that revokes a session answers the next check with the
// revocation, even though it had the "not revoked" answer cached: the
// logout request and the next request of the same api process must agree.
func TestRevokeSeenAtOnceBySameClient(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	d := NewDenylist(rdb, keys)
	ctx := context.Background()
	for i := range 300 {
		sid := id.ID(1000 + i)
		revoked, err := d.Revoked(ctx, sid)
		require.NoError(t, err)
		require.False(t, revoked)
		revoked, err = d.Revoked(ctx, sid) // now from memory
		require.NoError(t, err)
		require.False(t, revoked)
		require.NoError(t, d.Revoke(ctx, sid, time.Now().Add(time.Minute)))
		revoked, err = d.Revoked(ctx, sid)
		require.NoError(t, err)
		require.True(t, revoked, "round %d: the revocation must be seen at once", i)
	}
}

// A session announced revoked (an edge reading its session.revoked event)
// is refused at once, though this process has its "not revoked" answer
// cached and Redis has not (yet) told it otherwise; other sessions are not.
func TestAnnouncedRevocationRefusedAtOnce(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	d := NewDenylist(rdb, keys)
	ctx := context.Background()
	for range 2 {
		revoked, err := d.Revoked(ctx, 41)
		require.NoError(t, err)
		require.False(t, revoked)
	}
	d.Announced(41)
	revoked, err := d.Revoked(ctx, 41)
	require.NoError(t, err)
	require.True(t, revoked, "an announced revocation is not answered from the cache")
	revoked, err = d.Revoked(ctx, 42)
	require.NoError(t, err)
	require.False(t, revoked)
}

// secondClient is another connection pool on the same Redis, as another
// api or edge process would have.
func secondClient(t *testing.T) rueidis.Client {
	opt, err := rueidis.ParseURL(redistest.URL(t))
	require.NoError(t, err)
	c, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// A process that has a session's "not revoked" answer in memory hears of
// its revocation by another process from Redis, long before its cache
// entry's one-minute lifetime would have ended it.
func TestRevocationSeenAtOnceThroughClientSideCaching(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	k := setup(t, 16)
	edge := &Checker{Verifier: k.ver, Denylist: NewDenylist(rdb, keys)}
	api := NewDenylist(secondClient(t), keys)
	ctx := context.Background()
	raw, cl, err := k.iss.Issue(7, 77)
	require.NoError(t, err)

	for range 2 {
		got, err := edge.Check(ctx, raw)
		require.NoError(t, err)
		requireSameClaims(t, cl, got)
	}
	hit := rdb.DoCache(ctx, rdb.B().Get().Key(keys.Denied(cl.SID)).Cache(), time.Minute)
	require.True(t, hit.IsCacheHit(), "a repeated check is answered from memory")
	require.True(t, rueidis.IsRedisNil(hit.Error()))

	start := time.Now()
	require.NoError(t, api.Revoke(ctx, cl.SID, cl.ExpiresAt))
	require.Eventually(t, func() bool {
		_, err := edge.Check(ctx, raw)
		return errors.Is(err, ErrRevoked)
	}, time.Second, time.Millisecond, "the revocation is pushed to the caching client")
	t.Logf("revocation seen by the other client after %v", time.Since(start))

	other, _, err := k.iss.Issue(7, 78)
	require.NoError(t, err)
	_, err = edge.Check(ctx, other)
	require.NoError(t, err, "other sessions are untouched")
}

func TestRevokeAnExpiredSessionIsANoop(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	d := NewDenylist(rdb, keys)
	ctx := context.Background()
	require.NoError(t, d.Revoke(ctx, 5, time.Now().Add(-time.Second)))
	revoked, err := d.Revoked(ctx, 5)
	require.NoError(t, err)
	require.False(t, revoked, "every token of it expired already: nothing to deny")
	n, err := rdb.Do(ctx, rdb.B().Exists().Key(keys.Denied(5)).Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, n)

	// A denial lasts until its session's last token expires, no longer.
	require.NoError(t, d.Revoke(ctx, 6, time.Now().Add(200*time.Millisecond)))
	require.Eventually(t, func() bool {
		n, err := rdb.Do(ctx, rdb.B().Exists().Key(keys.Denied(6)).Build()).AsInt64()
		return err == nil && n == 0
	}, 5*time.Second, 20*time.Millisecond)
}

// A denylist that cannot be read is an error of its own, never a pass.
func TestCheckFailsClosedWithoutRedis(t *testing.T) {
	t.Parallel()
	k := setup(t, 16)
	c := secondClient(t)
	c.Close()
	chk := &Checker{Verifier: k.ver, Denylist: NewDenylist(c, rkey.New("x:", 1))}
	raw, _, err := k.iss.Issue(1, 2)
	require.NoError(t, err)
	_, err = chk.Check(context.Background(), raw)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrRevoked)
	_, err = chk.Check(context.Background(), "garbage")
	require.ErrorIs(t, err, ErrMalformed, "a bad token is refused before Redis is asked")
}
