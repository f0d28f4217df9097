// Package worker is the api's background process (chatterly-worker): the
// missed-call job on River with a precise in-process timer beside it, the
// outbox relay that publishes conversation events committed but never
// published, and the periodic jobs of partition upkeep, event retention,
// the trim of message sends' idempotency keys and that of ended sessions.
// It writes Postgres like the api, and serves /healthz, /readyz and
// /metrics on WORKER_ADDR.
//
// Presence needs no sweeper here: edges reap the presence of a dead edge
// node themselves (rkey.EdgeNodes).
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/dbstats"
	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/membership"
	"github.com/chatterly/chatterly/shared/background"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/valyala/fasthttp"
)

// Worker is the running worker process.
type Worker struct {
	cfg Config
	log *slog.Logger
	reg *prometheus.Registry

	db      *pgxpool.Pool
	rdb     rueidis.Client
	streams rueidis.Client

	jobs      *river.Client[pgx.Tx]
	calls     *call.Service
	publisher *eventlog.Publisher
	relay     *eventlog.Relay
	masters   *MasterWatch
	timer     *RingTimer
	http      *fasthttp.Server
}

// MetricsPrefix starts the name of every series the worker exports but the
// runtime's, the process's and chatterly_build_info.
const MetricsPrefix = "chatterly_worker_"

// Open connects to Postgres and Redis and builds every component. now is
// the clock of the jobs and the relay (time.Now but in tests). Close
// releases what Open opened; Run does it too.
func Open(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry, now func() time.Time) (*Worker, error) {
	w := &Worker{cfg: cfg, log: log, reg: reg}
	prom := prometheus.WrapRegistererWithPrefix(MetricsPrefix, reg)
	var err error
	if w.db, err = dial.Postgres(ctx, cfg.DatabaseURL, cfg.DBMaxConns, cfg.PgBouncer, cfg.DependencyTimeout, log, "postgres"); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	prom.MustRegister(dbstats.New(map[string]*pgxpool.Pool{"primary": w.db}))
	rdb, streams, err := dial.Redis(cfg.Common, log)
	if err != nil {
		w.Close()
		return nil, err
	}
	w.rdb, w.streams = metrics.NewRedisStats(prom).Instrument(rdb, streams)
	ids, err := dial.IDs(ctx, w.db, w.cfg.NodeID)
	if err != nil {
		w.Close()
		return nil, err
	}
	keys := rkey.New(cfg.KeyPrefix, cfg.StreamShards)
	guard := eventlog.NewGuard(w.streams, keys, cfg.StreamMaxLen, w.db)
	w.publisher = eventlog.NewPublisher(guard, w.db, log, 5*time.Second, prom)
	effects := call.NewEffects(w.rdb, keys, event.NewAppender(w.streams, keys, cfg.StreamMaxLen), w.db, now)
	w.relay = eventlog.NewRelay(guard, w.db, log.With("component", "relay"), now, cfg.Relay, prom,
		membership.New(w.rdb, keys, w.db).RelayHook(), effects.RelayHook())
	if cfg.MasterCheck > 0 {
		w.masters = NewMasterWatch(w.streams, w.relay.Sweep, now, cfg.MasterCheck, cfg.SweepWindow, log.With("component", "relay"))
	}
	w.calls = call.New(call.Deps{DB: w.db, IDs: ids, Outbox: eventlog.NewOutbox(ids, now), Publisher: w.publisher,
		Effects: effects, RingTimeout: cfg.RingTimeout, Now: now, Log: log.With("component", "calls")})
	if w.jobs, err = w.riverClient(now); err != nil {
		w.Close()
		return nil, err
	}
	prom.MustRegister(eventlog.NewBacklog(w.db, now), newJobStats(store{db: w.db}, []string{call.MissedKind,
		PartitionsArgs{}.Kind(), RetentionArgs{}.Kind(), KeysArgs{}.Kind(), SessionsArgs{}.Kind()}))
	if cfg.TimerPoll > 0 {
		w.timer = NewRingTimer(w.jobs, w.calls.Miss, cfg.TimerPoll, cfg.TimerAhead, log.With("component", "ring_timer"))
	}
	w.http = w.healthServer()
	return w, nil
}

// riverClient builds the River client that works the missed-call job and
// enqueues and works the periodic jobs.
func (w *Worker) riverClient(now func() time.Time) (*river.Client[pgx.Tx], error) {
	st := store{db: w.db}
	workers := river.NewWorkers()
	river.AddWorker(workers, call.NewMissedWorker(w.calls))
	river.AddWorker(workers, &PartitionsWorker{st: st, now: now, months: w.cfg.PartitionMonthsAhead, log: w.log.With("component", "partitions")})
	river.AddWorker(workers, &RetentionWorker{st: st, now: now, retention: w.cfg.EventRetention, log: w.log.With("component", "retention")})
	river.AddWorker(workers, &KeysWorker{st: st, now: now, keep: w.cfg.KeyRetention, log: w.log.With("component", "idempotency_keys")})
	river.AddWorker(workers, &SessionsWorker{st: st, now: now, keep: w.cfg.SessionRetention, log: w.log.With("component", "sessions")})
	c, err := river.NewClient(riverpgxv5.New(w.db), &river.Config{
		Logger:  w.log.With("component", "river"),
		Workers: workers,
		Queues: map[string]river.QueueConfig{
			call.Queue:       {MaxWorkers: w.cfg.CallWorkers},
			maintenanceQueue: {MaxWorkers: 1},
		},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(w.cfg.UpkeepInterval),
				func() (river.JobArgs, *river.InsertOpts) { return PartitionsArgs{}, nil },
				&river.PeriodicJobOpts{ID: "partition_upkeep", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(w.cfg.RetentionInterval),
				func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
				&river.PeriodicJobOpts{ID: "event_retention", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(w.cfg.KeyRetentionInterval),
				func() (river.JobArgs, *river.InsertOpts) { return KeysArgs{}, nil },
				&river.PeriodicJobOpts{ID: "idempotency_key_trim", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(w.cfg.SessionRetentionInterval),
				func() (river.JobArgs, *river.InsertOpts) { return SessionsArgs{}, nil },
				&river.PeriodicJobOpts{ID: "session_trim", RunOnStart: true}),
		},
		SoftStopTimeout: w.cfg.ShutdownTimeout,
		// PgBouncer's transaction pooling cannot keep a LISTEN.
		PollOnly: w.cfg.PgBouncer,
	})
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	return c, nil
}

// Jobs is the worker's River client (tests enqueue through it).
func (w *Worker) Jobs() *river.Client[pgx.Tx] { return w.jobs }

// Run serves health on ln and runs every component until ctx ends, then
// stops them in order: no new misses (timer, then River, whose running
// jobs get ShutdownTimeout to finish), no new relaying, the publisher's
// last marks, the health server, and finally the connections.
func (w *Worker) Run(ctx context.Context, ln net.Listener) error {
	defer w.Close()
	if err := w.jobs.Start(ctx); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	stopTimer := func() {}
	if w.timer != nil {
		stopTimer = background.Start(ctx, w.timer.Run)
	}
	stopRelay := background.Start(ctx, w.relay.Run)
	stopMasters := func() {}
	if w.masters != nil {
		stopMasters = background.Start(ctx, w.masters.Run)
	}
	stopPublisher := background.Start(ctx, w.publisher.Run)
	errc := make(chan error, 1)
	go func() { errc <- w.http.Serve(ln) }()
	w.log.InfoContext(ctx, "worker running", "addr", ln.Addr().String())

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	w.log.Info("worker stopping")
	stopTimer()
	sctx, cancel := context.WithTimeout(context.Background(), w.cfg.ShutdownTimeout+5*time.Second)
	defer cancel()
	if serr := w.jobs.Stop(sctx); serr != nil {
		w.log.Warn("river did not stop cleanly", "err", serr)
	}
	stopMasters()
	stopRelay()
	stopPublisher()
	_ = w.http.ShutdownWithContext(sctx)
	return err
}

// Close releases the connections.
func (w *Worker) Close() {
	if w.streams != nil && w.streams != w.rdb {
		w.streams.Close()
	}
	if w.rdb != nil {
		w.rdb.Close()
	}
	if w.db != nil {
		w.db.Close()
	}
}
