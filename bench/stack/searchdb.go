package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatterly/chatterly/loadtest/proc"
)

// The message-search scenario reads 10 M messages. Seeding them takes
// many minutes, so they live in a Postgres server of their own whose data
// folder is kept between runs (SearchDBDir, beside the bench's data
// folder, which every run empties): the seeded database is a cache, made
// once and reused while its fingerprint (the migrations, the seed's plan)
// matches. It is read only by the scenario; what a run writes there (its
// searchers' sessions) is small and replaced by the next run.

// SearchDB is the running search server.
type SearchDB struct {
	Dir      string
	Port     int
	AdminURL string
	PG       *proc.Proc
}

// SearchDBDir is the kept data folder of the search server.
func (s *Stack) SearchDBDir() string { return s.cfg.Dir + "-searchdb" }

// URL is the connection URL of database name on the search server.
func (d *SearchDB) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", d.Port, name)
}

// StartSearchDB starts the search server on its kept folder (initdb the
// first time), sized for a 10 M-message database: shared buffers that
// hold its messages and search index (5.1 and 2.6 GB), maintenance memory
// for the index build, and no fsync (it is a cache
// rebuilt whenever it is not known good: the seed writes its fingerprint
// last, after a checkpoint).
func (s *Stack) StartSearchDB(ctx context.Context) (*SearchDB, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	d := &SearchDB{Dir: s.SearchDBDir(), Port: ports[0]}
	env := append(os.Environ(), "STACK_DIR="+d.Dir, "LOCAL_PG_PORT="+strconv.Itoa(d.Port), "LOCAL_REDIS_PORT=1")
	script := filepath.Join(s.cfg.Checkout, "bench", "stack", "services.sh")
	if out, err := runScript(ctx, env, script, "prepare"); err != nil {
		return nil, fmt.Errorf("stack: search db: prepare: %w: %s", err, out)
	}
	out, err := runScript(ctx, env, script, "pg-argv")
	if err != nil {
		return nil, fmt.Errorf("stack: search db: pg-argv: %w", err)
	}
	argv := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	argv = append(argv, "-c", "shared_buffers=8GB", "-c", "maintenance_work_mem=1GB", "-c", "work_mem=64MB",
		"-c", "effective_cache_size=12GB", "-c", "max_wal_size=16GB", "-c", "checkpoint_timeout=30min",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_parallel_maintenance_workers=2", "-c", "random_page_cost=1.1")
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return nil, err
	}
	d.PG = proc.New("postgres-search", d.Dir, os.Environ(), argv...)
	d.AdminURL = d.URL("postgres")
	err = d.PG.StartReady(ctx, 60*time.Second, func() error {
		c, err := pgx.Connect(ctx, d.AdminURL)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Stop stops the search server (its fast shutdown, which checkpoints).
func (d *SearchDB) Stop() error { return d.PG.Stop(syscall.SIGINT, 120*time.Second) }

// Migrate runs the api's migrations on database url.
func (s *Stack) Migrate(ctx context.Context, url string) error {
	cmd := exec.CommandContext(ctx, binary(s.BinDir, "api"), "migrate")
	cmd.Env = s.appEnv(map[string]string{"DATABASE_URL": url})
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("stack: migrate %s: %w\n%s", url, err, out)
	}
	return nil
}

// StartAPIOn starts a second api on database url (the stack's Redis and
// keys, the bench's raised limits) and returns its URL and process.
func (s *Stack) StartAPIOn(ctx context.Context, url string) (string, *proc.Proc, error) {
	ports, err := FreePorts(2)
	if err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	p := proc.New("api-search", s.cfg.Dir, s.appEnv(map[string]string{"DATABASE_URL": url, "API_ADDR": addr,
		"API_ADMIN_ADDR": fmt.Sprintf("127.0.0.1:%d", ports[1])}), binary(s.BinDir, "api"))
	apiURL := "http://" + addr
	if err := p.StartReady(ctx, 30*time.Second, func() error { return proc.HTTPOK(apiURL + "/readyz") }); err != nil {
		return "", nil, err
	}
	return apiURL, p, nil
}

func runScript(ctx context.Context, env []string, script, verb string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", script, verb)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.String(), err
	}
	return string(out), nil
}
