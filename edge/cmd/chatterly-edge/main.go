// Command chatterly-edge is the WebSocket edge: it holds the clients'
// Action Cable connections and delivers the events of the Redis shard
// streams to them. SIGINT or SIGTERM drains it gracefully. "print-config"
// prints the configuration in effect; --help and --version answer without
// reading the environment.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/chatterly/chatterly/edge/server"
	"github.com/chatterly/chatterly/shared/cmdline"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
)

var program = cmdline.Program{
	Name: "chatterly-edge",
	Summary: "Chatterly's WebSocket edge (Action Cable protocol, docs/protocol.md). Run bare, it serves\n" +
		"until SIGINT or SIGTERM, then drains its sockets over EDGE_SHUTDOWN_WINDOW.",
	Commands: []cmdline.Command{
		{Usage: "serve /cable on EDGE_ADDR; /healthz, /readyz and /metrics on EDGE_ADMIN_ADDR"},
		cmdline.PrintConfig,
	},
}

func main() {
	cmd, _, done, code := program.Parse(os.Args[1:], os.Stdout, os.Stderr)
	if done {
		os.Exit(code)
	}
	if cmd == cmdline.PrintConfig.Name {
		os.Exit(cmdline.PrintEffective(program.Name, server.LoadConfig, os.Stdout, os.Stderr))
	}
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
