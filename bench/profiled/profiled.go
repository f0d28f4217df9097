// Package profiled runs the api inside the bench's own binary under a CPU
// profile, for the REST rows that miss a target: the api serves no pprof
// (the edge does, with EDGE_PPROF=1, and is profiled in place), so the
// harness restarts it as `chatterly-bench profile-api <file>`, reruns the
// load, and stops it, which writes <file>. The wiring is the api main's
// (configuration from the environment, the same packages), so the profile
// is of the same code under the same load. The CPU profile starts on
// SIGUSR2, so start-up and cache warming stay out of it; SIGUSR1 writes a
// heap profile to <file>.heap.
package profiled

import (
	"context"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	apiserver "github.com/chatterly/chatterly/api/server"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
)

// Run runs the api until SIGINT or SIGTERM, with a CPU profile written to
// out when it stops.
func Run(out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go heapOnUSR1(ctx, out+".heap")
	started := make(chan error, 1)
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR2)
		defer signal.Stop(ch)
		select {
		case <-ch:
			started <- pprof.StartCPUProfile(f)
		case <-ctx.Done():
			started <- nil
		}
	}()
	err = api(ctx)
	if serr := <-started; serr != nil && err == nil {
		err = serr
	}
	pprof.StopCPUProfile() // a no-op when it never started
	return err
}

// heapOnUSR1 writes a heap profile (after a GC, so it shows live memory)
// each time the process receives SIGUSR1.
func heapOnUSR1(ctx context.Context, path string) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			runtime.GC()
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}
}

func api(ctx context.Context) error {
	cfg, err := apiserver.LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogLevel, "api")
	deps, err := apiserver.Open(ctx, cfg, log, metrics.NewRegistry())
	if err != nil {
		return err
	}
	defer deps.Close()
	srv, err := apiserver.New(ctx, deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
