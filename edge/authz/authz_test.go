package authz

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/stretchr/testify/require"
)

func TestMemberFollowsTheSet(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	ctx := context.Background()
	c := New(rdb, keys)

	a, err := c.Member(ctx, 10, 1)
	require.NoError(t, err)
	require.Equal(t, Unknown, a, "a missing set is not known, not empty")

	require.NoError(t, rdb.Do(ctx, rdb.B().Sadd().Key(keys.Members(10)).Member("0", "1").Build()).Error())
	require.Eventually(t, func() bool { a, _ := c.Member(ctx, 10, 1); return a == Yes }, 2*time.Second, 5*time.Millisecond)
	a, err = c.Member(ctx, 10, 2)
	require.NoError(t, err)
	require.Equal(t, No, a)

	// The api removes a member: the cached yes is invalidated by Redis.
	require.NoError(t, rdb.Do(ctx, rdb.B().Srem().Key(keys.Members(10)).Member("1").Build()).Error())
	require.Eventually(t, func() bool { a, _ := c.Member(ctx, 10, 1); return a == No }, 2*time.Second, 5*time.Millisecond)
}

func TestCallPeers(t *testing.T) {
	t.Parallel()
	rdb, keys := redistest.Client(t)
	ctx := context.Background()
	c := New(rdb, keys)
	ok, err := c.CallPeers(ctx, 5, 1, 2)
	require.NoError(t, err)
	require.False(t, ok, "no live call")
	require.NoError(t, rdb.Do(ctx, rdb.B().Sadd().Key(keys.CallParticipants(5)).Member("1", "2").Build()).Error())
	require.Eventually(t, func() bool { ok, _ := c.CallPeers(ctx, 5, 1, 2); return ok }, 2*time.Second, 5*time.Millisecond)
	for _, p := range [][2]int64{{2, 1}} {
		ok, err := c.CallPeers(ctx, 5, idOf(p[0]), idOf(p[1]))
		require.NoError(t, err)
		require.True(t, ok)
	}
	for _, p := range [][2]int64{{1, 1}, {1, 3}, {3, 2}} {
		ok, err := c.CallPeers(ctx, 5, idOf(p[0]), idOf(p[1]))
		require.NoError(t, err)
		require.False(t, ok, p)
	}
	// The call ends: the api deletes the set.
	require.NoError(t, rdb.Do(ctx, rdb.B().Del().Key(keys.CallParticipants(5)).Build()).Error())
	require.Eventually(t, func() bool { ok, _ := c.CallPeers(ctx, 5, 1, 2); return !ok }, 2*time.Second, 5*time.Millisecond)
}

func idOf(n int64) id.ID { return id.ID(n) }
