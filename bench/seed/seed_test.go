package seed

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/stretchr/testify/require"
)

func TestSeedWritesUsableUsersAndConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.Pool(t)
	rdb, keys := redistest.Client(t)
	dir := t.TempDir()
	require.NoError(t, token.GenerateKey(dir))

	w, err := Seed(ctx, Deps{DB: db, Redis: rdb, Keys: keys, KeyDir: dir}, Plan{
		Users: 40,
		Groups: []Group{
			{Shape: "g19", Size: 19, Count: 2},
			{Shape: "pair", Size: 2, Count: 3, First: 38},
			{Shape: "all", Size: 40, Count: 1},
		},
		TokenTTL: time.Hour,
	})
	require.NoError(t, err)
	require.Len(t, w.Users, 40)
	require.Len(t, w.Conversations, 6)
	require.Equal(t, []int{2, 3, 4}, w.ByShape["pair"])
	// Pairs start at user 38 and wrap: 38-39, 0-1, 2-3.
	require.Equal(t, []int{38, 39}, w.Conversations[2].Members)
	require.Equal(t, []int{0, 1}, w.Conversations[3].Members)

	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM memberships`).Scan(&n))
	require.Equal(t, 19*2+2*3+40, n)

	// Tokens verify with the public key alone, for the seeded user and session.
	pubs, err := token.LoadPublicKeys(dir)
	require.NoError(t, err)
	v, err := token.NewVerifier(pubs, 0)
	require.NoError(t, err)
	cl, err := v.Verify(w.Users[7].Token)
	require.NoError(t, err)
	require.Equal(t, w.Users[7].ID, cl.UserID)
	require.Equal(t, w.Users[7].SID, cl.SID)

	// The edge's subscribe check sees the members, and only them.
	sets := membership.New(rdb, keys, db)
	ok, err := sets.Check(ctx, w.Conversations[0].ID, w.Users[18].ID)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = sets.Check(ctx, w.Conversations[0].ID, w.Users[19].ID)
	require.NoError(t, err)
	require.False(t, ok)

	memberOf := w.MemberOf()
	// User 0: first g19 group, the wrapped pair 0-1, and "all".
	require.Equal(t, []int{0, 3, 5}, memberOf[0])
}
