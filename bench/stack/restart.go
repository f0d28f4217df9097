package stack

import (
	"context"
	"syscall"
	"time"
)

// The fault scenarios restart one piece while load runs. Each restart
// returns when the piece answers again; the caller times it.

// RestartEdge stops edge i with sig (SIGKILL: a crash; SIGTERM: a drain)
// and starts it again on the same address.
func (s *Stack) RestartEdge(ctx context.Context, i int, sig syscall.Signal) error {
	e := s.Edges[i]
	if err := e.Stop(sig, 20*time.Second); err != nil {
		return err
	}
	return s.startEdge(ctx, e)
}

// RestartRedis stops Redis (SIGTERM: it fsyncs its append-only file) and
// starts it on the same port and data.
func (s *Stack) RestartRedis(ctx context.Context) error {
	if err := s.Redis.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		return err
	}
	return s.startRedis(ctx)
}

// RestartPostgres stops Postgres with its fast shutdown (open
// transactions roll back) and starts it on the same data.
func (s *Stack) RestartPostgres(ctx context.Context) error {
	if err := s.PG.Stop(syscall.SIGINT, 30*time.Second); err != nil {
		return err
	}
	return s.startPG(ctx)
}

// RestartWorker stops the worker with sig and starts it again.
func (s *Stack) RestartWorker(ctx context.Context, sig syscall.Signal) error {
	if err := s.Worker.Stop(sig, 20*time.Second); err != nil {
		return err
	}
	return s.startWorker(ctx)
}

// RestartAPI stops the api with sig and starts it again on its address.
func (s *Stack) RestartAPI(ctx context.Context, sig syscall.Signal) error {
	if err := s.API.Stop(sig, 20*time.Second); err != nil {
		return err
	}
	return s.startAPI(ctx)
}
