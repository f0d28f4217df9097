// Package pgtest gives each test a database of its own, cloned from a
// migrated template, on the Postgres server at TEST_DATABASE_URL (an admin
// URL; `make test` sets it). Cloning a template takes tens of milliseconds,
// so tests stay isolated and parallel.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/schema"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL returns TEST_DATABASE_URL, failing the test when it is unset.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`, which starts Postgres and Redis")
	}
	return u
}

// URL creates a fresh migrated database and returns its URL; the database is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	if templateErr != nil {
		t.Fatalf("pgtest: template database: %v", templateErr)
	}
	return withDatabase(admin, newDatabase(t, admin, templateName))
}

// newDatabase clones template on the server of admin into a database of
// t's own, dropped when the test ends, and returns its name.
func newDatabase(t testing.TB, admin, template string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	name := "chatterly_t_" + logging.NewRequestID()
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return name
}

// Pool creates a fresh migrated database and returns a pool on it as a
// process under test opens it (ProcessPool), closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return ProcessPool(t, URL(t))
}

func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}

// ensureTemplate makes chatterly_tpl_<fingerprint of the migrations> once per
// server: built under another name and renamed when complete, under an
// advisory lock, so concurrent test binaries never clone half a template.
func ensureTemplate(admin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "chatterly_tpl_" + schema.Fingerprint()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7343)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7343)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	tc, err := pgx.Connect(ctx, withDatabase(admin, building))
	if err != nil {
		return "", err
	}
	_, err = schema.Migrate(ctx, tc)
	tc.Close(ctx)
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	// Old templates of earlier migration sets are no longer wanted.
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'chatterly\\_tpl\\_%' AND datname <> $1", name)
	if err == nil {
		old, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, o := range old {
			if !strings.HasSuffix(o, "_building") {
				_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+o)
			}
		}
	}
	return name, nil
}
