package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/loadtest/proc"
)

// ProfileAPI reruns the api under a CPU profile: it stops the api, starts
// the bench binary's profiled build of it in its place (same environment
// and address), runs warm, starts the profile (SIGUSR2), runs load, stops
// it (which writes the profile to out), and starts the normal build again.
// (The edge serves its own profiles with EDGE_PPROF=1; see EdgeProfile.)
func (s *Stack) ProfileAPI(ctx context.Context, out string, warm, load func() error) error {
	p, start := s.API, s.startAPI
	if err := p.Stop(syscall.SIGTERM, 20*time.Second); err != nil {
		return err
	}
	normal := p.SetArgv(s.Binary("bench"), "profile-api", out)
	restore := func() error {
		p.SetArgv(normal...)
		return start(ctx)
	}
	if err := start(ctx); err != nil {
		return errors.Join(err, restore())
	}
	warmErr := warm()
	loadErr := p.Signal(syscall.SIGUSR2)
	if loadErr == nil {
		loadErr = load()
	}
	loadErr = errors.Join(warmErr, loadErr)
	stopErr := p.Stop(syscall.SIGTERM, 30*time.Second)
	if _, err := os.Stat(out); err != nil && stopErr == nil {
		stopErr = fmt.Errorf("stack: the profiled api wrote no profile: %w", err)
	}
	return errors.Join(loadErr, stopErr, restore())
}

// Proc returns the process of a piece ("api", "edge<i>", "worker").
func (s *Stack) Proc(piece string) *proc.Proc {
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

// EdgeProfile fetches a profile from edge i's admin address (EDGE_PPROF=1):
// kind "profile" is a CPU profile of secs seconds, "heap" the live heap
// after a GC. It is written to out.
func (s *Stack) EdgeProfile(ctx context.Context, i int, kind string, secs int, out string) error {
	url := s.Edges[i].AdminURL + "/debug/pprof/" + kind
	if kind == "profile" {
		url += fmt.Sprintf("?seconds=%d", secs)
	} else {
		url += "?gc=1"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("stack: edge profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("stack: edge profile: %s (is EDGE_PPROF on?)", resp.Status)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
