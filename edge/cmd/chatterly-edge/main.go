// Command chatterly-edge is the WebSocket edge: it holds the clients'
// Action Cable connections and delivers the events of the Redis shard
// streams to them. SIGINT or SIGTERM drains it gracefully.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/chatterly/chatterly/edge/server"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
)

func main() {
	cfg, err := server.LoadConfig(config.FromOS())
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatterly-edge:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.LogLevel, "edge")
	// Process-wide settings belong here, not in a constructor.
	debug.SetGCPercent(cfg.GCPercent)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	deps, err := server.Open(cfg, log, metrics.NewRegistry())
	if err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
	// Run stops everything it started, deps included, within
	// EDGE_SHUTDOWN_WINDOW + EDGE_SHUTDOWN_TIMEOUT of the signal.
	if err := server.New(cfg, deps).Run(ctx); err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}
