package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chatterly/chatterly/edge/authz"
	"github.com/chatterly/chatterly/edge/hub"
	"github.com/chatterly/chatterly/edge/presence"
	"github.com/chatterly/chatterly/edge/stream"
	"github.com/chatterly/chatterly/shared/event"
	sharedmetrics "github.com/chatterly/chatterly/shared/metrics"
	"github.com/chatterly/chatterly/shared/outage"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// Deps is what the edge is built from. Open builds it from Config.
type Deps struct {
	// Redis holds the denylist, member sets, call participants and
	// presence; Streams carries the shard streams (the same client unless
	// configured apart).
	Redis    rueidis.Client
	Streams  rueidis.Client
	Keys     rkey.Space
	Checker  *token.Checker
	Authz    *authz.Checker
	Appender *event.Appender
	Presence *presence.Tracker
	Hub      *hub.Hub
	Consumer *stream.Consumer
	Log      *slog.Logger
	Metrics  *prometheus.Registry
}

// Open connects to Redis and loads the public keys. Close releases what it
// opened.
func Open(cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Deps, error) {
	d := &Deps{Log: log, Metrics: reg, Keys: rkey.New(cfg.KeyPrefix, cfg.StreamShards)}
	var err error
	// Every call reports to an outage tracker, which logs an outage once
	// when it starts and once when it ends, with its duration.
	// Blocking XREADs take a connection each from a node's blocking pool:
	// on a Redis Cluster there is one reader per shard, on one Redis
	// StreamReaders at most.
	blocking := max(cfg.StreamReaders, cfg.StreamShards) + 1
	if d.Redis, err = openRedis(cfg.RedisURL, blocking, cfg.RedisCacheBytes, outage.New(log, "redis")); err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	d.Streams = d.Redis
	if cfg.RedisStreamsURL != cfg.RedisURL {
		if d.Streams, err = openRedis(cfg.RedisStreamsURL, blocking, cfg.RedisCacheBytes,
			outage.New(log, "redis_streams")); err != nil {
			d.Close(context.Background())
			return nil, fmt.Errorf("REDIS_STREAMS_URL: %w", err)
		}
	}
	// Counted outside the outage tracking, so a command is counted once.
	d.Redis, d.Streams = sharedmetrics.NewRedisStats(prometheus.WrapRegistererWithPrefix("chatterly_edge_", reg)).
		Instrument(d.Redis, d.Streams)
	pubs, err := token.LoadPublicKeys(cfg.JWTKeyDir)
	if err != nil {
		d.Close(context.Background())
		return nil, err
	}
	v, err := token.NewVerifier(pubs, cfg.TokenCacheSize)
	if err != nil {
		d.Close(context.Background())
		return nil, err
	}
	d.Checker = &token.Checker{Verifier: v, Denylist: token.NewDenylist(d.Redis, d.Keys)}
	d.Authz = authz.New(d.Redis, d.Keys)
	d.Appender = event.NewAppender(d.Streams, d.Keys, cfg.StreamMaxLen)
	d.Presence = presence.New(d.Redis, d.Keys, d.Appender, presence.Config{
		Node: cfg.Node, Grace: cfg.PresenceGrace, NodeTTL: cfg.NodeTTL,
	}, log, reg)
	d.Hub = hub.New(reg)
	d.Consumer = stream.New(d.Streams, d.Keys, revocations{d.Hub, d.Checker.Denylist}, stream.Config{Readers: cfg.StreamReaders, MaxBacklog: int64(cfg.MaxBacklog)}, log, reg)
	return d, nil
}

// revocations hands the stream's events to the hub, first telling the
// denylist of each session.revoked: the event that disconnects the
// session's sockets must also refuse its next handshake here, which the
// denylist's cached "not revoked" answer could otherwise still welcome
// until Redis's invalidation arrives.
type revocations struct {
	*hub.Hub
	denylist *token.Denylist
}

func (r revocations) Publish(evs []*hub.Event) {
	for _, ev := range evs {
		if ev.Type == event.SessionRevoked {
			r.denylist.Announced(ev.SID)
		}
	}
	r.Hub.Publish(evs)
}

// openRedis opens a client whose descriptors stay few and bounded (the
// pipelined connections plus a small pool for blocking XREADs) and whose
// client-side cache holds at most cacheBytes per connection.
func openRedis(url string, blocking, cacheBytes int, track *outage.Tracker) (rueidis.Client, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.BlockingPoolSize = max(2, blocking+1)
	opt.CacheSizeEachConn = cacheBytes
	// The edge sends small commands and reads batches of small entries:
	// 64 KiB buffers instead of rueidis' 512 KiB per connection.
	opt.ReadBufferEachConn, opt.WriteBufferEachConn = 64<<10, 64<<10
	// While other calls wait on a connection (a handshake storm's token
	// and membership checks), its writer lingers up to 20 µs after a flush
	// to gather more into the next one: fewer write and read syscalls here
	// and in Redis per call. A lone call is never delayed, nor is a
	// blocking read (rueidis' rule, issue 156).
	opt.MaxFlushDelay = 20 * time.Microsecond
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, err
	}
	// No blanket call deadline (0): every edge call sets its own
	// (EDGE_REDIS_TIMEOUT, an XREAD's block plus slack, presence rounds,
	// the shutdown's), and a blanket one would cut blocking reads short.
	return outage.TrackRedis(c, track, 0), nil
}

// Close releases the Redis clients, at most until ctx ends: a client's
// close waits for a reply to its last PING, up to a second per connection
// when Redis does not answer, and a process on its way out need not wait
// for that.
func (d *Deps) Close(ctx context.Context) {
	clients := []rueidis.Client{d.Redis}
	if d.Streams != d.Redis {
		clients = append(clients, d.Streams)
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		if c != nil {
			wg.Add(1)
			go func() { defer wg.Done(); c.Close() }()
		}
	}
	within(ctx, wg.Wait)
}
