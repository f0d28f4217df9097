package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/dbstats"
	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// Deps is everything the api's components are built from. Open builds it
// from Config; tests build it the same way against their own database and
// key prefix.
type Deps struct {
	Cfg Config
	Log *slog.Logger
	// DB is the primary; Replica serves reads that need not see the
	// caller's own writes (it is DB when no replica is configured).
	DB      *pgxpool.Pool
	Replica *pgxpool.Pool
	// Redis holds denylist, rate limits, caches, member sets; Streams
	// carries the event streams (the same client unless configured apart).
	Redis   rueidis.Client
	Streams rueidis.Client
	Keys    rkey.Space
	IDs     *id.Generator
	Issuer  *token.Issuer
	Checker *token.Checker
	Metrics *prometheus.Registry
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// MetricsPrefix starts the name of every series the api exports but the
// runtime's, the process's and chatterly_build_info.
const MetricsPrefix = "chatterly_api_"

// Open connects to Postgres and Redis, loads keys and draws a node id.
// Close releases what it opened. The pools' and the Redis clients'
// statistics are registered on reg.
func Open(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Deps, error) {
	d := &Deps{Cfg: cfg, Log: log, Metrics: reg, Now: time.Now,
		Keys: rkey.New(cfg.KeyPrefix, cfg.StreamShards)}
	var err error
	if d.DB, err = dial.Postgres(ctx, cfg.DatabaseURL, cfg.DBMaxConns, cfg.PgBouncer, cfg.DependencyTimeout, log, "postgres"); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	d.Replica = d.DB
	if cfg.DatabaseReplicaURL != "" {
		if d.Replica, err = dial.Postgres(ctx, cfg.DatabaseReplicaURL, cfg.DBMaxConns, cfg.PgBouncer, cfg.DependencyTimeout, log, "postgres_replica"); err != nil {
			d.Close()
			return nil, fmt.Errorf("DATABASE_REPLICA_URL: %w", err)
		}
	}
	pools := map[string]*pgxpool.Pool{"primary": d.DB}
	if d.Replica != d.DB {
		pools["replica"] = d.Replica
	}
	prom := d.Registerer()
	prom.MustRegister(dbstats.New(pools))
	rdb, streams, err := dial.Redis(cfg.Common, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Redis, d.Streams = metrics.NewRedisStats(prom).Instrument(rdb, streams)
	if d.IDs, err = dial.IDs(ctx, d.DB, cfg.NodeID); err != nil {
		d.Close()
		return nil, err
	}
	priv, err := token.LoadSigningKey(cfg.JWTKeyDir, cfg.JWTDevKeys)
	if err != nil {
		d.Close()
		return nil, err
	}
	if d.Issuer, err = token.NewIssuer(priv, cfg.AccessTokenTTL); err != nil {
		d.Close()
		return nil, err
	}
	pubs, err := token.LoadPublicKeys(cfg.JWTKeyDir)
	if err != nil {
		d.Close()
		return nil, err
	}
	v, err := token.NewVerifier(pubs, cfg.Auth.TokenCacheSize)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Checker = &token.Checker{Verifier: v, Denylist: token.NewDenylist(d.Redis, d.Keys)}
	return d, nil
}

// Registerer is where the api's components register their series: d.Metrics
// with MetricsPrefix before every name.
func (d *Deps) Registerer() prometheus.Registerer {
	return prometheus.WrapRegistererWithPrefix(MetricsPrefix, d.Metrics)
}

// Close releases connections.
func (d *Deps) Close() {
	if d.Streams != nil && d.Streams != d.Redis {
		d.Streams.Close()
	}
	if d.Redis != nil {
		d.Redis.Close()
	}
	if d.Replica != nil && d.Replica != d.DB {
		d.Replica.Close()
	}
	if d.DB != nil {
		d.DB.Close()
	}
}
