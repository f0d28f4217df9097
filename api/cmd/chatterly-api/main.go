// Command chatterly-api serves the REST API. Subcommands: "migrate" applies
// pending migrations to DATABASE_URL; "keygen" makes a signing key in
// JWT_KEY_DIR when there is none ("keygen -rotate" makes a new one and keeps
// the old public key accepted).
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
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5"
)

func main() {
	cfg, err := server.LoadConfig(config.FromOS())
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatterly-api:", err)
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.LogLevel, "api")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := ""
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "":
		err = serve(ctx, cfg, log)
	case "migrate":
		err = migrate(ctx, cfg, log)
	case "keygen":
		if len(os.Args) > 2 && os.Args[2] == "-rotate" {
			err = token.GenerateKey(cfg.JWTKeyDir)
		} else {
			err = token.EnsureKey(cfg.JWTKeyDir)
		}
	default:
		err = fmt.Errorf("unknown command %q (want migrate, keygen or nothing)", cmd)
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
	log.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
