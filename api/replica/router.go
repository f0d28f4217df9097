// Package replica sends the api's reads that may lag to a streaming
// replica of the primary (DATABASE_REPLICA_URL), and keeps three promises
// while doing so:
//
//   - a person reads their own writes. Every successful write request
//     leaves, before it is answered, the primary's WAL position in Redis
//     under the writer's id (Wrote); a lagging read of that person goes to
//     the replica only once the replica has replayed past it. Redis is
//     shared by the api nodes, so this holds whichever node serves the
//     read. The mark expires after twice DATABASE_REPLICA_MAX_LAG: by then
//     a replica that still serves reads has replayed it (below);
//   - a replica that is down, not a replica (promoted, misconfigured) or
//     more than DATABASE_REPLICA_MAX_LAG behind serves nothing: those reads
//     go to the primary, and return once it is back and caught up. A read
//     the replica fails (it stopped since the last look) is run again on
//     the primary at once, so nobody sees the failure;
//   - the api starts whatever the replica's state: nothing here connects
//     to it at start.
//
// Run looks at both servers every pollInterval: the primary's WAL
// position, the replica's replay position and whether it is in recovery.
// From them it keeps the replica's lag (exported as
// chatterly_api_replica_lag_seconds and _bytes) and whether lagging reads
// may use it; each change of that is logged once (a warning when reads
// leave the replica, with the reason; a line when they return), never per
// read. chatterly_api_replica_reads_total counts the reads by the server
// that answered and why.
//
// Which reads may lag is the callers' decision (see README, "Reads that
// may lag"): they call Read; every other read and every write uses the
// primary directly.
package replica

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// pollInterval is how often Run looks at the primary and the replica: a
// stopped replica is noticed within it (a read it fails meanwhile is
// retried on the primary), and a writer's reads return to the replica
// within it once the replica has replayed the write.
const pollInterval = 200 * time.Millisecond

// Why a lagging read went where it went (the reason label).
const (
	reasonCaughtUp      = "caught_up"      // replica: it has everything the reader wrote
	reasonNoReplica     = "no_replica"     // primary: none configured
	reasonOwnWrite      = "own_write"      // primary: the reader's write is not replayed yet
	reasonMarkUnknown   = "mark_unknown"   // primary: Redis could not say what the reader wrote
	reasonReplicaDown   = "replica_down"   // primary: the replica does not answer
	reasonNotStandby    = "not_standby"    // primary: the server is not in recovery
	reasonBehind        = "replica_behind" // primary: more than the max lag behind
	reasonReplicaFailed = "replica_failed" // primary: the replica failed this read
	reasonStarting      = "starting"       // primary: not looked at yet
)

// Config is what a Router is built from.
type Config struct {
	// Primary is the primary's pool; Replica the replica's, nil for none.
	Primary, Replica *pgxpool.Pool
	// Redis keeps each writer's mark under Keys.LastWrite.
	Redis rueidis.Client
	Keys  rkey.Space
	// MaxLag is the most a replica may lag and still serve reads.
	MaxLag  time.Duration
	Log     *slog.Logger
	Metrics prometheus.Registerer
}

// Router routes the lagging reads. Its methods are safe for concurrent
// use; Run must run for the replica to be used at all.
type Router struct {
	primary, replica *pgxpool.Pool
	rdb              rueidis.Client
	keys             rkey.Space
	maxLag           time.Duration
	log              *slog.Logger
	now              func() time.Time

	// state is the last look's verdict, read by every lagging read.
	state atomic.Pointer[state]

	// mu guards what only Run and a failed read change: the samples of
	// the primary's position and the outage in progress.
	mu       sync.Mutex
	samples  []sample
	offSince time.Time
	offReads atomic.Int64

	reads    *prometheus.CounterVec
	lagSecs  prometheus.Gauge
	lagBytes prometheus.Gauge
	usable   prometheus.Gauge
}

// state is what a lagging read needs to know of the replica.
type state struct {
	usable bool
	reason string // why not usable
	replay lsn    // its replay position at the last look
}

// sample is the primary's WAL position at a time.
type sample struct {
	at  time.Time
	pos lsn
}

// New returns a Router; with no replica every read goes to the primary.
func New(cfg Config) *Router {
	r := &Router{primary: cfg.Primary, replica: cfg.Replica, rdb: cfg.Redis, keys: cfg.Keys,
		maxLag: cfg.MaxLag, log: cfg.Log, now: time.Now}
	r.state.Store(&state{reason: reasonStarting})
	r.reads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chatterly_api_replica_reads_total",
		Help: "Reads that may lag, by the server that answered them (replica or primary) and why.",
	}, []string{"served_by", "reason"})
	r.lagSecs = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "chatterly_api_replica_lag_seconds",
		Help: "How far the replica's replay is behind the primary, in time (0 when caught up).",
	})
	r.lagBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "chatterly_api_replica_lag_bytes",
		Help: "How far the replica's replay is behind the primary's WAL, in bytes.",
	})
	r.usable = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "chatterly_api_replica_usable",
		Help: "1 while reads that may lag go to the replica, 0 while they go to the primary.",
	})
	if cfg.Metrics != nil && r.replica != nil {
		cfg.Metrics.MustRegister(r.reads, r.lagSecs, r.lagBytes, r.usable)
	}
	return r
}

// Primary is the primary's pool.
func (r *Router) Primary() *pgxpool.Pool { return r.primary }

// Close closes the replica's pool (the primary's is its opener's).
func (r *Router) Close() {
	if r.replica != nil {
		r.replica.Close()
	}
}

// Read runs fn, a read that may lag, for reader (0: nobody in particular)
// on the replica when it may serve it, else on the primary. fn may run
// twice: when the replica fails it, it runs again on the primary, and
// Read returns what that run returns.
func (r *Router) Read(ctx context.Context, reader id.ID, fn func(db *pgxpool.Pool) error) error {
	if r.replica == nil {
		return fn(r.primary)
	}
	if reason := r.route(ctx, reader); reason != reasonCaughtUp {
		r.servedByPrimary(reason)
		return fn(r.primary)
	}
	err := fn(r.replica)
	if err == nil || ctx.Err() != nil || !replicaFailure(err) {
		r.reads.WithLabelValues("replica", reasonCaughtUp).Inc()
		return err
	}
	r.turnOff(reasonReplicaDown, err)
	r.servedByPrimary(reasonReplicaFailed)
	return fn(r.primary)
}

func (r *Router) servedByPrimary(reason string) {
	r.reads.WithLabelValues("primary", reason).Inc()
	if reason != reasonOwnWrite && reason != reasonMarkUnknown {
		r.offReads.Add(1)
	}
}

// route says why reader's lagging read goes where it goes: reasonCaughtUp
// for the replica, any other reason for the primary.
func (r *Router) route(ctx context.Context, reader id.ID) string {
	st := r.state.Load()
	if !st.usable {
		return st.reason
	}
	if reader == 0 {
		return reasonCaughtUp
	}
	s, err := r.rdb.Do(ctx, r.rdb.B().Get().Key(r.keys.LastWrite(reader)).Build()).ToString()
	switch {
	case rueidis.IsRedisNil(err):
		return reasonCaughtUp // nothing written within the mark's lifetime
	case err != nil:
		return reasonMarkUnknown
	}
	mark, err := parseMark(s)
	if err != nil || mark > st.replay {
		return reasonOwnWrite
	}
	return reasonCaughtUp
}

// replicaFailure reports whether err means the replica could not answer
// (down, stopping, starting, unreachable) or cancelled the read because
// replay needed what it touched (a recovery conflict, SQLSTATE 40001 on a
// standby): either way the primary can answer it.
func replicaFailure(err error) bool {
	if fault.DependencyDown(err) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40001"
}

// markScript raises the writer's mark to ARGV[1] (never lowers it: two
// writes answered out of order keep the later position) and renews its
// lifetime. Marks are fixed-width hex, so string order is WAL order.
var markScript = rueidis.NewLuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur >= ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// Wrote records that writer's write committed: its reads that may lag
// stay on the primary until the replica has replayed the primary's WAL up
// to now. The rest layer calls it for every successful write request,
// before the answer goes out. It costs one primary round trip and one
// Redis round trip, and nothing without a replica. An error leaves the
// writer's next reads to the replica's lag (at most the max lag); the
// caller logs it at most as the dependencies' own outage lines do.
func (r *Router) Wrote(ctx context.Context, writer id.ID) error {
	if r.replica == nil || writer == 0 {
		return nil
	}
	var pos string
	if err := r.primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&pos); err != nil {
		return err
	}
	l, err := parseLSN(pos)
	if err != nil {
		return err
	}
	ttl := 2 * r.maxLag
	return markScript.Exec(ctx, r.rdb, []string{r.keys.LastWrite(writer)},
		[]string{l.mark(), itoa(ttl.Milliseconds())}).Error()
}
