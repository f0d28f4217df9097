package pgtest_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// With the switch on, a process's URL is the test binary's PgBouncer
// (its own port, in pgtest's range), in transaction pooling mode: two
// clients connected at once take turns on one server connection, which
// session pooling (or no pooler) would never give them. Not parallel:
// it sets the switch for the whole test binary.
func TestProcessURLGoesThroughPgBouncerInTransactionMode(t *testing.T) {
	direct := pgtest.URL(t)
	t.Setenv(pgtest.PgBouncerEnv, "1")
	through, bounce := pgtest.ProcessURL(t, direct)
	require.True(t, bounce)
	u, err := url.Parse(through)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	require.True(t, port >= 23000 && port <= 23999, "port %d", port)

	ctx := context.Background()
	pid := func(c *pgx.Conn) (p int) {
		require.NoError(t, c.QueryRow(ctx, "SELECT pg_backend_pid()", pgx.QueryExecModeSimpleProtocol).Scan(&p))
		return p
	}
	first, err := pgx.Connect(ctx, through)
	require.NoError(t, err)
	defer first.Close(ctx)
	second, err := pgx.Connect(ctx, through)
	require.NoError(t, err)
	defer second.Close(ctx)
	require.Equal(t, pid(first), pid(second), "both clients ran on one server connection")

	// A pool as the processes open it (cache-describe mode) runs queries
	// with parameters and transactions through it.
	pool := pgtest.ProcessPool(t, direct)
	var n int
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT count(*) + $1 FROM schema_migrations", 1).Scan(&n)
	}))
	require.Greater(t, n, 1)
}
