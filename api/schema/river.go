package schema

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River's tables (the job queue of the worker, into which the api inserts
// jobs in its own transactions) are created by River's own migrator, not by
// copies of its SQL: a River upgrade brings its migrations with it. Migrate
// runs them after Chatterly's, and Pending and Fingerprint count them, so
// `chatterly-api migrate` and the test template (pgtest) include them.

// riverMigrator returns a migrator on pool (nil is enough to list versions).
func riverMigrator(pool *pgxpool.Pool) (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{
		Logger: slog.New(slog.DiscardHandler), // applied versions are returned instead
	})
	if err != nil {
		return nil, fmt.Errorf("schema: river: %w", err)
	}
	return m, nil
}

// migrateRiver applies River's pending migrations to conn's database. River
// migrates through a pool (each version in its own transaction), so a small
// one is opened on conn's connection settings for the duration; the caller's
// advisory lock on conn keeps concurrent migrators out.
func migrateRiver(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("schema: river: %w", err)
	}
	pc.ConnConfig = conn.Config()
	pc.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("schema: river: %w", err)
	}
	defer pool.Close()
	m, err := riverMigrator(pool)
	if err != nil {
		return nil, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("schema: river: %w", err)
	}
	names := make([]string, len(res.Versions))
	for i, v := range res.Versions {
		names[i] = riverName(v.Version, v.Name)
	}
	return names, nil
}

// pendingRiver lists River's versions not yet applied to conn's database.
func pendingRiver(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	m, err := riverMigrator(nil)
	if err != nil {
		return nil, err
	}
	done := map[int]bool{}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('river_migration') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("schema: river: %w", err)
	}
	if exists {
		rows, err := conn.Query(ctx, "SELECT version FROM river_migration WHERE line = 'main'")
		if err != nil {
			return nil, fmt.Errorf("schema: river: %w", err)
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return nil, fmt.Errorf("schema: river: %w", err)
		}
		for _, v := range vs {
			done[v] = true
		}
	}
	var out []string
	for _, v := range m.AllVersions() {
		if !done[v.Version] {
			out = append(out, riverName(v.Version, v.Name))
		}
	}
	return out, nil
}

// riverSQL is River's migrations as one string, for Fingerprint.
func riverSQL() string {
	m, err := riverMigrator(nil)
	if err != nil {
		return err.Error()
	}
	var s string
	for _, v := range m.AllVersions() {
		s += riverName(v.Version, v.Name) + v.SQLUp
	}
	return s
}

func riverName(version int, name string) string {
	return "river_" + strconv.Itoa(version) + "_" + name
}
