// Package schema holds Chatterly's versioned Postgres migrations and applies
// them. Files are migrations/NNNN_name.sql, applied in order, each in its own
// transaction, recorded in schema_migrations. An advisory lock lets several
// processes start at once safely.
package schema

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var files embed.FS

// Migration is one versioned file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// lockKey is the advisory lock held while migrating.
const lockKey = 0x636861747465 // "chatte"

// All returns every migration in version order.
func All() ([]Migration, error) {
	ents, err := fs.ReadDir(files, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range ents {
		name := e.Name()
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("schema: %s: name must start with a version number", name)
		}
		b, err := files.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("schema: two migrations with version %d", out[i].Version)
		}
	}
	return out, nil
}

// Fingerprint identifies the set of migrations (tests name template
// databases with it).
func Fingerprint() string {
	ms, _ := All()
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQL))
	}
	h.Write([]byte(riverSQL()))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`

// Migrate applies every pending migration and returns the names applied.
func Migrate(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return nil, fmt.Errorf("schema: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck
	if _, err := conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	done, err := applied(ctx, conn)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return names, fmt.Errorf("schema: %s: %w", m.Name, err)
		}
		names = append(names, m.Name)
	}
	river, err := migrateRiver(ctx, conn)
	return append(names, river...), err
}

// Pending returns the names of migrations not yet applied. The api refuses
// to start while any are.
func Pending(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	done := map[int]bool{}
	if exists {
		if done, err = applied(ctx, conn); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, m := range ms {
		if !done[m.Version] {
			out = append(out, m.Name)
		}
	}
	river, err := pendingRiver(ctx, conn)
	return append(out, river...), err
}

func applied(ctx context.Context, conn *pgx.Conn) (map[int]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	done := make(map[int]bool, len(vs))
	for _, v := range vs {
		done[v] = true
	}
	return done, nil
}
