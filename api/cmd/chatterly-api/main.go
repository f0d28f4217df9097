// Command chatterly-api serves the REST API. Subcommands: "migrate" applies
// pending migrations to DATABASE_URL; "keygen" makes a signing key in
// JWT_KEY_DIR when there is none ("keygen -rotate" makes a new one and keeps
// the old public key accepted); "print-config" prints the configuration in
// effect. --help and --version answer without reading the environment.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatterly/chatterly/api/dial"
	"github.com/chatterly/chatterly/api/schema"
	"github.com/chatterly/chatterly/api/server"
	"github.com/chatterly/chatterly/shared/cmdline"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5"
)

var program = cmdline.Program{
	Name: "chatterly-api",
	Summary: "Chatterly's REST API over Postgres and Redis. Run bare, it serves until SIGINT or SIGTERM,\n" +
		"then drains requests in flight (SHUTDOWN_TIMEOUT).",
	Commands: []cmdline.Command{
		{Usage: "serve the REST API and /healthz, /readyz on API_ADDR; /metrics on API_ADMIN_ADDR"},
		{Name: "migrate", Usage: "apply pending migrations to DATABASE_URL (Postgres itself, not PgBouncer) and exit"},
		{Name: "keygen", Flags: []string{"-rotate"},
			Usage: "make a signing key in JWT_KEY_DIR when there is none (-rotate: a new one; old public keys stay accepted)"},
		cmdline.PrintConfig,
	},
}

func main() {
	cmd, args, done, code := program.Parse(os.Args[1:], os.Stdout, os.Stderr)
	if done {
		os.Exit(code)
	}
	if cmd == cmdline.PrintConfig.Name {
		os.Exit(cmdline.PrintEffective(program.Name, server.LoadConfig, os.Stdout, os.Stderr))
	}
	cfg, err := server.LoadConfig(config.FromOS())
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatterly-api:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.LogLevel, "api")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "":
		err = serve(ctx, cfg, log)
	case "migrate":
		err = migrate(ctx, cfg, log)
	case "keygen":
		if len(args) > 0 { // -rotate, the only flag Parse lets through
			err = token.GenerateKey(cfg.JWTKeyDir)
		} else {
			err = token.EnsureKey(cfg.JWTKeyDir)
		}
	}
	if err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, cfg server.Config, log *slog.Logger) error {
	if err := dial.CheckSchema(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	deps, err := server.Open(ctx, cfg, log, metrics.NewRegistry())
	if err != nil {
		return err
	}
	defer deps.Close()
	srv, err := server.New(ctx, deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("API_ADDR: %w", err)
	}
	admin, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("API_ADMIN_ADDR: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "admin_addr", admin.Addr().String())
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- srv.ServeAdmin(admin) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		err = srv.Shutdown(sctx)
	}
	return err
}

func migrate(ctx context.Context, cfg server.Config, log *slog.Logger) error {
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	names, err := schema.Migrate(ctx, conn)
	for _, n := range names {
		log.Info("applied migration", "name", n)
	}
	return err
}
