package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Profile reruns a piece under a CPU profile: it stops piece ("api" or
// "edge<i>"), starts the bench binary's profiled build of it in its place
// (same environment and address), runs load, stops it (which writes the
// profile to out), and starts the normal build again. Sockets on a
// restarted edge are dropped: load opens its own.
func (s *Stack) Profile(ctx context.Context, piece, out string, load func() error) error {
	var p *Proc
	var start func(context.Context) error
	var which string
	switch {
	case piece == "api":
		p, which = s.API, "api"
		start = s.startAPI
	default:
		var i int
		if _, err := fmt.Sscanf(piece, "edge%d", &i); err != nil || i < 0 || i >= len(s.Edges) {
			return fmt.Errorf("stack: no piece %q to profile", piece)
		}
		e := s.Edges[i]
		p, which = e.Proc, "edge"
		start = func(ctx context.Context) error { return s.startEdge(ctx, e) }
	}
	if err := p.Stop(syscall.SIGTERM, 20*time.Second); err != nil {
		return err
	}
	normal := p.SetArgv(s.Binary("bench"), "profile-"+which, out)
	restore := func() error {
		p.SetArgv(normal...)
		return start(ctx)
	}
	if err := start(ctx); err != nil {
		return errors.Join(err, restore())
	}
	loadErr := load()
	stopErr := p.Stop(syscall.SIGTERM, 30*time.Second)
	if _, err := os.Stat(out); err != nil && stopErr == nil {
		stopErr = fmt.Errorf("stack: the profiled %s wrote no profile: %w", piece, err)
	}
	return errors.Join(loadErr, stopErr, restore())
}

// Proc returns the process of a piece ("api", "edge<i>", "worker").
func (s *Stack) Proc(piece string) *Proc {
	switch piece {
	case "api":
		return s.API
	case "worker":
		return s.Worker
	}
	var i int
	if _, err := fmt.Sscanf(piece, "edge%d", &i); err == nil && i >= 0 && i < len(s.Edges) {
		return s.Edges[i].Proc
	}
	return nil
}
