package fault_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/tcpproxy"
	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// The errors real Postgres and Redis give when they cannot serve are
// unavailable (503 with Retry-After), however a store wraps them; the
// errors of a statement they answered are not. Before this table, each
// of the first group answered 500 internal.
func TestClassifyRealDependencyErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	down := map[string]error{}
	answered := map[string]error{}

	// Postgres refuses the connection.
	_, err := pgx.Connect(ctx, fmt.Sprintf("postgres://nobody@127.0.0.1:%d/x?connect_timeout=2", closedPort(t)))
	down["postgres connection refused"] = err

	// An administrator ends the connection (57P01 admin_shutdown, or the
	// closed socket, depending on which the driver reads first).
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	admin, err := pgx.Connect(ctx, pgtest.AdminURL(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend($1)", conn.PgConn().PID())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SELECT 1")
	down["postgres admin shutdown"] = err

	// Postgres does not answer within the call's deadline.
	px, viaProxy := tcpproxy.Through(t, dbURL)
	slow, err := pgx.Connect(ctx, viaProxy)
	require.NoError(t, err)
	px.Pause()
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = slow.Exec(tctx, "SELECT 1")
	cancel()
	down["postgres timeout"] = err
	px.Resume()

	// A statement timeout (57014).
	good, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer good.Close(ctx)
	_, err = good.Exec(ctx, "SET statement_timeout = 50")
	require.NoError(t, err)
	_, err = good.Exec(ctx, "SELECT pg_sleep(1)")
	down["postgres statement timeout"] = err
	_, err = good.Exec(ctx, "RESET statement_timeout")
	require.NoError(t, err)

	// Statements Postgres answered with an error.
	_, err = good.Exec(ctx, "SELEKT 1")
	answered["postgres syntax error"] = err
	_, err = good.Exec(ctx, "CREATE TEMP TABLE u (x int PRIMARY KEY); INSERT INTO u VALUES (1), (1)")
	answered["postgres unique violation"] = err
	err = good.QueryRow(ctx, "SELECT 1 WHERE false").Scan(new(int))
	answered["postgres no rows"] = err

	// Redis refuses, and Redis answers.
	opt, err := rueidis.ParseURL(fmt.Sprintf("redis://127.0.0.1:%d/0", closedPort(t)))
	require.NoError(t, err)
	_, err = rueidis.NewClient(opt)
	down["redis connection refused"] = err
	rdb, keys := redistest.Client(t)
	k := keys.Prefix + "str"
	require.NoError(t, rdb.Do(ctx, rdb.B().Set().Key(k).Value("x").Build()).Error())
	answered["redis WRONGTYPE"] = rdb.Do(ctx, rdb.B().Lpush().Key(k).Element("y").Build()).Error()

	for what, err := range down {
		require.Error(t, err, what)
		fe := fault.Classify(fault.Wrap(fmt.Errorf("store: %w", err), "load"))
		require.Equal(t, fault.Unavailable, fe.Code, "%s: %v", what, err)
		require.Equal(t, time.Second, fe.RetryAfter, what)
		require.ErrorIs(t, fe, err, "the cause is kept for the log")
	}
	for what, err := range answered {
		require.Error(t, err, what)
		require.False(t, fault.DependencyDown(err), "%s: %v", what, err)
		require.Equal(t, fault.Internal, fault.Classify(fault.Wrap(err, "load")).Code, what)
	}
}

// Classify keeps a domain error as it is, gives an unavailable error
// without a Retry-After the default one, and wraps a bare error as
// internal.
func TestClassifyKeepsDomainErrors(t *testing.T) {
	t.Parallel()
	nf := fault.New(fault.NotFound, "no such thing")
	require.Same(t, nf, fault.Classify(fmt.Errorf("x: %w", nf)))
	u := fault.Classify(fault.New(fault.Unavailable, "busy"))
	require.Equal(t, fault.UnavailableRetry, u.RetryAfter)
	limited := &fault.Error{Code: fault.Unavailable, Message: "later", RetryAfter: 3 * time.Second}
	require.Equal(t, 3*time.Second, fault.Classify(limited).RetryAfter)
	require.Equal(t, fault.Internal, fault.Classify(errors.New("bug")).Code)
}
