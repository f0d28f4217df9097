package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/replica"
	"github.com/chatterly/chatterly/shared/id"
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
	// DB is the primary; Replica routes the reads that may lag to the
	// replica of DATABASE_REPLICA_URL (to DB when none is configured,
	// or while the replica cannot serve them).
	DB      *pgxpool.Pool
	Replica *replica.Router
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

// Open connects to Postgres and Redis, loads keys and draws a node id.
// Close releases what it opened.
func Open(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Deps, error) {
	d := &Deps{Cfg: cfg, Log: log, Metrics: reg, Now: time.Now,
		Keys: rkey.New(cfg.KeyPrefix, cfg.StreamShards)}
	var err error
	if d.DB, err = dial.Postgres(ctx, cfg.DatabaseURL, cfg.DBMaxConns, cfg.PgBouncer, cfg.DependencyTimeout, log, "postgres"); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if d.Redis, d.Streams, err = dial.Redis(cfg.Common, log); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.openReplica(ctx); err != nil {
		d.Close()
		return nil, err
	}
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

// openReplica builds the router of the reads that may lag, with the
// replica's pool when one is configured. Nothing connects to the replica
// here: the api starts while it is down (the router's loop, started with
// the server, finds out when it answers).
func (d *Deps) openReplica(ctx context.Context) error {
	var rp *pgxpool.Pool
	if d.Cfg.DatabaseReplicaURL != "" {
		var err error
		if rp, err = dial.Replica(ctx, d.Cfg.DatabaseReplicaURL, d.Cfg.DBMaxConns, d.Cfg.PgBouncer, d.Cfg.DependencyTimeout, d.Log); err != nil {
			return fmt.Errorf("DATABASE_REPLICA_URL: %w", err)
		}
	}
	d.Replica = replica.New(replica.Config{Primary: d.DB, Replica: rp, Redis: d.Redis, Keys: d.Keys,
		MaxLag: d.Cfg.DatabaseReplicaMaxLag, Log: d.Log, Metrics: d.Metrics})
	return nil
}

// Close releases connections.
func (d *Deps) Close() {
	if d.Streams != nil && d.Streams != d.Redis {
		d.Streams.Close()
	}
	if d.Redis != nil {
		d.Redis.Close()
	}
	if d.Replica != nil {
		d.Replica.Close()
	}
	if d.DB != nil {
		d.DB.Close()
	}
}
