// Command chatterly-worker runs the api's background work: the missed-call
// job and its precise timer, the outbox relay, partition upkeep, event
// retention and the trims of idempotency keys and ended sessions. It serves /healthz, /readyz
// and /metrics on WORKER_ADDR and stops cleanly on SIGINT or SIGTERM. Like
// the api, it refuses to run on a database with pending migrations
// (`chatterly-api migrate` applies them, River's included). "print-config"
// prints the configuration in effect; --help and --version answer without
// reading the environment.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/worker"
	"github.com/chatterly/chatterly/shared/cmdline"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
)

var program = cmdline.Program{
	Name: "chatterly-worker",
	Summary: "Chatterly's background work: missed calls, the outbox relay, partition upkeep and the\n" +
		"retention trims. Run bare, it works until SIGINT or SIGTERM, then stops its jobs (SHUTDOWN_TIMEOUT).",
	Commands: []cmdline.Command{
		{Usage: "run the jobs; /healthz, /readyz and /metrics on WORKER_ADDR"},
		cmdline.PrintConfig,
	},
}

func main() {
	cmd, _, done, code := program.Parse(os.Args[1:], os.Stdout, os.Stderr)
	if done {
		os.Exit(code)
	}
	if cmd == cmdline.PrintConfig.Name {
		os.Exit(cmdline.PrintEffective(program.Name, worker.LoadConfig, os.Stdout, os.Stderr))
	}
	cfg, err := worker.LoadConfig(config.FromOS())
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatterly-worker:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.LogLevel, "worker")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg worker.Config, log *slog.Logger) error {
	if err := dial.CheckSchema(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	w, err := worker.Open(ctx, cfg, log, metrics.NewRegistry(), time.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		w.Close()
		return fmt.Errorf("WORKER_ADDR: %w", err)
	}
	return w.Run(ctx, ln)
}
