// Package dial opens what the api's processes (chatterly-api and
// chatterly-worker) start from: the Postgres pools, the Redis clients, the
// node of their ids, and the check that the database is migrated. Both open
// them through here, so
// a setting such as DATABASE_PGBOUNCER means the same in each.
//
// Every client opened here is guarded: a call whose context has no
// deadline waits at most DEPENDENCY_TIMEOUT for Postgres or Redis (so a REST
// request never hangs on a dependency: the api answers 503 unavailable,
// see fault.DependencyDown), and each client's outages are logged once when
// they start and once when they end (shared/outage), not per failed call.
package dial

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/schema"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/outage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// startTimeout bounds the first connection of a pool.
const startTimeout = 15 * time.Second

// Postgres opens a pool of at most maxConns connections on url and pings
// it, so a wrong URL or an unreachable server fails at start. pgBouncer
// configures it for PgBouncer's transaction pooling (PgBouncerMode). A
// call without a deadline waits at most callTimeout; outages are logged to
// log as the dependency name.
func Postgres(ctx context.Context, url string, maxConns int, pgBouncer bool, callTimeout time.Duration, log *slog.Logger, name string) (*pgxpool.Pool, error) {
	p, err := pool(ctx, url, maxConns, pgBouncer, callTimeout, log, name)
	if err != nil {
		return nil, err
	}
	// The first connection may take longer than a call may (a server
	// still starting), but not forever.
	pctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := p.Ping(pctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Replica opens the pool of a read replica like Postgres, but without
// connecting: the api starts while its replica is down, and api/replica
// keeps reads off it until it answers.
func Replica(ctx context.Context, url string, maxConns int, pgBouncer bool, callTimeout time.Duration, log *slog.Logger) (*pgxpool.Pool, error) {
	return pool(ctx, url, maxConns, pgBouncer, callTimeout, log, "postgres_replica")
}

// PgBouncerMode is how the pools behind PgBouncer's transaction pooling
// (DATABASE_PGBOUNCER=1) run queries. Transaction pooling hands a client a
// server connection for one transaction only, so a named prepared
// statement (pgx's default mode caches them per connection) would be
// missing, or another's, on the next server. CacheDescribe uses only the
// unnamed statement, sending Parse, Bind and Execute in one round trip
// once it knows a query's parameter and result types (asked once per
// connection, also in one round trip): the server still types every
// parameter, so values encode as in the default mode (QueryExecModeExec
// would guess types from Go values, and its text encoding differs for
// some). The server's describe may come from another server connection
// than the execution; both see the same schema.
const PgBouncerMode = pgx.QueryExecModeCacheDescribe

// pool builds a pool without connecting: a server that is down now does
// not fail it (its calls fail, and are tracked, until it is back).
func pool(ctx context.Context, url string, maxConns int, pgBouncer bool, callTimeout time.Duration, log *slog.Logger, name string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	pc.MaxConns = int32(maxConns)
	pc.ConnConfig.Tracer = &pgGuard{timeout: callTimeout, outage: outage.New(log, name)}
	if pgBouncer {
		pc.ConnConfig.DefaultQueryExecMode = PgBouncerMode
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

// Redis opens the client of REDIS_URL and the one that carries the event
// streams (REDIS_STREAMS_URL), which is the same client unless the two
// URLs differ. The error names the variable whose client failed; nothing
// is left open then. Calls without a deadline wait at most
// cfg.DependencyTimeout; outages are logged to log as "redis" and
// "redis_streams".
func Redis(cfg config.Common, log *slog.Logger) (rdb, streams rueidis.Client, err error) {
	if rdb, err = redisClient(cfg.RedisURL, cfg.DependencyTimeout, log, "redis"); err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if cfg.RedisStreamsURL == cfg.RedisURL {
		return rdb, rdb, nil
	}
	if streams, err = redisClient(cfg.RedisStreamsURL, cfg.DependencyTimeout, log, "redis_streams"); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("REDIS_STREAMS_URL: %w", err)
	}
	return rdb, streams, nil
}

func redisClient(url string, callTimeout time.Duration, log *slog.Logger, name string) (rueidis.Client, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	// One pipelined connection per Redis node, as rueidis gives a cluster
	// client by default (a single node's client gets 2–4): every command
	// batch goes out in fewer, fuller writes, and a cached read of many
	// keys (the conversation list's) is answered from one connection's
	// process-memory cache in the caller's goroutine, where several
	// connections made rueidis fan the lookups out to a goroutine each.
	opt.PipelineMultiplex = -1
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	logClusterMode(log, name, c)
	return outage.TrackRedis(c, outage.New(log, name), callTimeout), nil
}

// logClusterMode says so when url named a node of a Redis Cluster: the
// client found the cluster itself (rueidis asks the node for its slots) and
// sends each key to its slot's master.
func logClusterMode(log *slog.Logger, name string, c rueidis.Client) {
	if c.Mode() == rueidis.ClientModeCluster {
		log.Info("redis cluster detected", "dependency", name, "nodes", len(c.Nodes()))
	}
}

// IDs returns the id generator of a process: on node when node is 0 or
// more (NODE_ID), else on the next value of the database's node_ids
// sequence, so the api and worker processes sharing a database draw
// distinct nodes (until more than id.MaxNode+1 have started, when they wrap).
func IDs(ctx context.Context, db *pgxpool.Pool, node int) (*id.Generator, error) {
	if node < 0 {
		var n int64
		if err := db.QueryRow(ctx, "SELECT nextval('node_ids')").Scan(&n); err != nil {
			return nil, fmt.Errorf("draw node id: %w", err)
		}
		node = int(n % (id.MaxNode + 1))
	}
	return id.NewGenerator(node)
}

// CheckSchema refuses a database with pending migrations: a process runs
// only on the schema it was built for (`chatterly-api migrate` applies
// them, River's included). Its queries use the simple protocol, so the
// check also passes through PgBouncer's transaction pooling.
func CheckSchema(ctx context.Context, url string) error {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	cc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	pending, err := schema.Pending(ctx, conn)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("database has pending migrations (run `make migrate`): %v", pending)
	}
	return nil
}
