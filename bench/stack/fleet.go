package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/loadtest/proc"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/jackc/pgx/v5"
)

// FleetAPIs is how many api processes a fleet stack runs.
const FleetAPIs = 2

// fleetParts are what only a fleet stack runs, as `make fleet` does: a
// Redis Cluster of 3 masters with a replica each (shared/redistest, from
// the redis-server binary) instead of one Redis; beside the Postgres
// primary a streaming replica (pg_basebackup) that the apis read what may
// lag from, and PgBouncer in transaction pooling mode through which the
// apis' and the worker's pools reach the primary (deploy/local/lib.sh,
// through services.sh).
type fleetParts struct {
	cluster                  *redistest.Cluster
	replica, bouncer         *proc.Proc
	replicaPort, bouncerPort int
	// killed is the Redis master FailRedisMaster killed, until RejoinRedis.
	killed *redistest.ClusterNode
}

// FleetConfig is the configuration of a fleet stack beside s: s's
// binaries, edges and limits, its data in s's folder.
func (s *Stack) FleetConfig() Config {
	c := s.cfg
	c.Fleet, c.BinDir, c.Dir = true, s.BinDir, filepath.Join(s.cfg.Dir, "fleet")
	return c
}

// startFleetServices starts the replica, PgBouncer and the Redis Cluster
// once the primary is up.
func (s *Stack) startFleetServices(ctx context.Context) error {
	ports, err := FreePorts(2)
	if err != nil {
		return err
	}
	f := &fleetParts{replicaPort: ports[0], bouncerPort: ports[1]}
	s.fleet = f
	out, err := s.services(ctx, "replica-argv") // pg_basebackup, then the replica's command
	if err != nil {
		return err
	}
	f.replica = proc.New("pg-replica", s.cfg.Dir, os.Environ(), argvOf(out)...)
	if err := f.startReplica(ctx); err != nil {
		return err
	}
	if out, err = s.services(ctx, "pgbouncer-argv"); err != nil {
		return err
	}
	f.bouncer = proc.New("pgbouncer", s.cfg.Dir, os.Environ(), argvOf(out)...)
	if err := f.bouncer.StartReady(ctx, 15*time.Second, func() error { return tcpOpen(fmt.Sprintf("127.0.0.1:%d", f.bouncerPort)) }); err != nil {
		return err
	}
	if f.cluster, err = redistest.StartCluster(redistest.ClusterConfig{Masters: 3, Replicas: 1}); err != nil {
		return err
	}
	s.RedisURL, s.RedisPort = f.cluster.URL(), f.cluster.Nodes()[0].Port
	return nil
}

func (f *fleetParts) startReplica(ctx context.Context) error {
	return f.replica.StartReady(ctx, 30*time.Second, func() error {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", f.replicaPort))
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

// env points the processes' pools at PgBouncer and their reads that may
// lag at the replica.
func (f *fleetParts) env(vars map[string]string) {
	if f == nil {
		return
	}
	vars["DATABASE_URL"] = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/chatterly?sslmode=disable", f.bouncerPort)
	vars["DATABASE_PGBOUNCER"] = "1"
	vars["DATABASE_REPLICA_URL"] = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/chatterly?sslmode=disable", f.replicaPort)
}

func (f *fleetParts) procs() []*proc.Proc {
	if f == nil {
		return nil
	}
	var out []*proc.Proc
	for _, p := range []*proc.Proc{f.replica, f.bouncer} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// stop stops PgBouncer, the replica (fast shutdown) and the cluster.
func (f *fleetParts) stop() error {
	if f == nil {
		return nil
	}
	var errs []error
	for _, p := range f.procs() {
		errs = append(errs, p.Stop(syscall.SIGINT, 30*time.Second))
	}
	if f.cluster != nil {
		f.cluster.Stop()
	}
	return errors.Join(errs...)
}

// RestartReplica stops the fleet's Postgres replica (fast shutdown), keeps
// it down for down, and starts it again on its data: it resumes streaming,
// and the apis return their reads to it.
func (s *Stack) RestartReplica(ctx context.Context, down time.Duration) error {
	if err := s.fleet.replica.Stop(syscall.SIGINT, 30*time.Second); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return s.fleet.startReplica(ctx)
}

// FailRedisMaster kills (SIGKILL) the cluster's master serving key and
// returns once its replica has taken over and the cluster is healthy.
func (s *Stack) FailRedisMaster(key string) error {
	c := s.fleet.cluster
	m, err := c.MasterOf(key)
	if err != nil {
		return err
	}
	s.fleet.killed = m
	c.Kill(m)
	return c.WaitHealthy(time.Minute)
}

// RejoinRedis starts the master FailRedisMaster killed again: it rejoins
// as its successor's replica, so the cluster can fail over once more.
func (s *Stack) RejoinRedis() error {
	f := s.fleet
	if f.killed == nil {
		return nil
	}
	if err := f.cluster.Restart(f.killed); err != nil {
		return err
	}
	f.killed = nil
	return f.cluster.WaitHealthy(time.Minute)
}
