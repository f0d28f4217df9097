package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/chatterly/chatterly/api/dbstats"
	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/file"
	"github.com/chatterly/chatterly/api/replica"
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
	// Files keeps the bytes of uploaded files (FILE_STORAGE); FileKey
	// signs their download URLs, derived from the token signing key so
	// every api node has the same.
	Files   file.Storage
	FileKey []byte
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
	rdb, streams, err := dial.Redis(cfg.Common, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	prom := d.Registerer()
	d.Redis, d.Streams = metrics.NewRedisStats(prom).Instrument(rdb, streams)
	rp, err := d.openReplica(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	pools := map[string]*pgxpool.Pool{"primary": d.DB}
	if rp != nil {
		pools["replica"] = rp
	}
	prom.MustRegister(dbstats.New(pools))
	if d.IDs, err = dial.IDs(ctx, d.DB, cfg.NodeID); err != nil {
		d.Close()
		return nil, err
	}
	priv, err := token.LoadSigningKey(cfg.JWTKeyDir, cfg.JWTDevKeys)
	if err != nil {
		d.Close()
		return nil, err
	}
	mac := hmac.New(sha256.New, priv.Seed())
	mac.Write([]byte("chatterly file urls"))
	d.FileKey = mac.Sum(nil)
	if d.Files, err = openFiles(cfg.Files); err != nil {
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

// openFiles returns the storage FILE_STORAGE names. Neither backend
// connects here: an S3 store that is down fails the uploads, not the start.
func openFiles(cfg file.Config) (file.Storage, error) {
	if cfg.Storage == "s3" {
		return file.NewS3(cfg.S3, &http.Client{Timeout: 30 * time.Second}), nil
	}
	st, err := file.NewLocal(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("FILE_DIR: %w", err)
	}
	return st, nil
}

// Registerer is where the api's components register their series: d.Metrics
// with MetricsPrefix before every name.
func (d *Deps) Registerer() prometheus.Registerer {
	return prometheus.WrapRegistererWithPrefix(MetricsPrefix, d.Metrics)
}

// openReplica builds the router of the reads that may lag, with the
// replica's pool when one is configured (returned, for the pool
// statistics). Nothing connects to the replica here: the api starts while
// it is down (the router's loop, started with the server, finds out when it
// answers).
func (d *Deps) openReplica(ctx context.Context) (*pgxpool.Pool, error) {
	var rp *pgxpool.Pool
	if d.Cfg.DatabaseReplicaURL != "" {
		var err error
		if rp, err = dial.Replica(ctx, d.Cfg.DatabaseReplicaURL, d.Cfg.DBMaxConns, d.Cfg.PgBouncer, d.Cfg.DependencyTimeout, d.Log); err != nil {
			return nil, fmt.Errorf("DATABASE_REPLICA_URL: %w", err)
		}
	}
	d.Replica = replica.New(replica.Config{Primary: d.DB, Replica: rp, Redis: d.Redis, Keys: d.Keys,
		MaxLag: d.Cfg.DatabaseReplicaMaxLag, Log: d.Log, Metrics: d.Metrics})
	return rp, nil
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
