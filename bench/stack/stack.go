// Package stack runs the whole Chatterly stack for the bench, from
// nothing to nothing: it builds release binaries, starts Postgres and Redis
// in a clean data folder (by deploy/local/lib.sh's rules, through
// services.sh), migrates, makes the signing key, starts the api, the edge
// processes and the worker with the bench's raised limits, restarts any of
// them on demand (the fault scenarios), and stops everything at the end.
//
// Every port is chosen free on 127.0.0.1 at start, and the data folder is
// the caller's (a sub-folder of the per-checkout STACK_DIR), so a bench
// stack never collides with `make run`, `make test` or another checkout.
package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatterly/chatterly/loadtest/proc"
)

// Config says what to start.
type Config struct {
	// Checkout is the repository root.
	Checkout string
	// Dir is the data folder. It is emptied at start: nothing of an earlier
	// run survives into this one.
	Dir string
	// Edges is how many edge processes to start (when the edge exists).
	Edges int
	// Env holds extra variables for the api, edge and worker (raised
	// limits); they override the stack's own.
	Env map[string]string
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
	// Fleet starts the multi-node topology (fleet.go) instead of one
	// Redis and one api.
	Fleet bool
	// BinDir holds binaries built already (another stack's): Start then
	// builds nothing.
	BinDir string
}

// Stack is a running stack.
type Stack struct {
	cfg Config
	// BinDir holds the release binaries; KeyDir the JWT keys (signing.key
	// and *.pub, as JWT_KEY_DIR).
	BinDir, KeyDir string
	// DatabaseURL is the application database; AdminURL the server's
	// postgres database. RedisURL serves every Redis role.
	DatabaseURL, AdminURL, RedisURL string
	PGPort, RedisPort               int
	// APIURL is http://127.0.0.1:<port> of the first api; APIURLs lists
	// every api's (one, or a fleet's several), APIs their processes.
	APIURL  string
	APIURLs []string
	// APIAdminURLs serve each api's /metrics, in APIURLs' order.
	APIAdminURLs []string
	PG           *proc.Proc
	Redis        *proc.Proc
	API          *proc.Proc
	APIs         []*proc.Proc
	Edges        []*Edge
	Worker       *proc.Proc
	// fleet is the multi-node topology's own pieces (Config.Fleet).
	fleet *fleetParts
	// WorkerURL serves the worker's /readyz and /metrics.
	WorkerURL string
	// Missing names each command that was not started and why (a piece
	// another engineer has not landed yet).
	Missing map[string]string
}

// Edge is one running edge process.
type Edge struct {
	*proc.Proc
	// Addr is its WebSocket host:port and URL the endpoint; AdminURL
	// serves /readyz and /metrics.
	Addr, URL, AdminURL string
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Dir is the stack's data folder (processes' logs live there).
func (s *Stack) Dir() string { return s.cfg.Dir }

// Binary is the path of a built command ("bench" for the socket children).
func (s *Stack) Binary(name string) string { return binary(s.BinDir, name) }

// Start builds and starts everything. On error, whatever was started is
// stopped again.
func Start(ctx context.Context, cfg Config) (s *Stack, err error) {
	s = &Stack{cfg: cfg, BinDir: filepath.Join(cfg.Dir, "bin"), KeyDir: filepath.Join(cfg.Dir, "keys"),
		Missing: map[string]string{}}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if err := cleanDir(cfg.Dir); err != nil {
		return s, err
	}
	t0 := time.Now()
	build := func() ([]string, map[string]string, error) { return Build(ctx, cfg.Checkout, s.BinDir) }
	if cfg.BinDir != "" {
		s.BinDir = cfg.BinDir
		build = func() ([]string, map[string]string, error) { return Built(cfg.BinDir) }
	}
	built, failed, err := build()
	if err != nil {
		return s, err
	}
	cfg.logf("built %v in %s", built, time.Since(t0).Round(time.Millisecond))
	for name, rel := range Commands {
		switch {
		case failed[name] != "":
			s.Missing[name] = "it does not compile at this commit: " + firstLine(failed[name])
		case !slices.Contains(built, name):
			s.Missing[name] = rel + " does not exist at this commit"
		}
	}
	if !slices.Contains(built, "api") {
		return s, fmt.Errorf("stack: the api does not build: %s", failed["api"])
	}
	if err := s.startServices(ctx); err != nil {
		return s, err
	}
	if err := s.startApp(ctx, built); err != nil {
		return s, err
	}
	cfg.logf("stack up in %s: api %s, %d edge(s), worker %v", time.Since(t0).Round(time.Millisecond),
		s.APIURL, len(s.Edges), s.Worker != nil)
	return s, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// cleanDir empties dir, first stopping a Postgres an earlier, crashed run
// may have left on its data (its pid is the first line of postmaster.pid).
func cleanDir(dir string) error {
	if b, err := os.ReadFile(filepath.Join(dir, "pg", "postmaster.pid")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 1 {
			if syscall.Kill(pid, syscall.SIGINT) == nil {
				for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
					time.Sleep(100 * time.Millisecond) // polling a foreign pid: no channel to wait on
				}
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("stack: clean %s: %w", dir, err)
	}
	// The postgres user must be able to walk down to its data folder.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.Chmod(filepath.Dir(dir), 0o755)
}

// argvOf splits a command services.sh printed NUL-separated.
func argvOf(out []byte) []string {
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// services runs services.sh with the stack's folder and ports.
func (s *Stack) services(ctx context.Context, verb string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(s.cfg.Checkout, "bench", "stack", "services.sh"), verb)
	cmd.Env = append(os.Environ(), "STACK_DIR="+s.cfg.Dir,
		"LOCAL_PG_PORT="+strconv.Itoa(s.PGPort), "LOCAL_REDIS_PORT="+strconv.Itoa(s.RedisPort))
	if f := s.fleet; f != nil {
		cmd.Env = append(cmd.Env, "FLEET_REPLICA_PORT="+strconv.Itoa(f.replicaPort), "FLEET_PGBOUNCER_PORT="+strconv.Itoa(f.bouncerPort))
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("stack: services.sh %s: %w: %s", verb, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (s *Stack) startServices(ctx context.Context) error {
	ports, err := FreePorts(2)
	if err != nil {
		return err
	}
	s.PGPort, s.RedisPort = ports[0], ports[1]
	if _, err := s.services(ctx, "prepare"); err != nil {
		return err
	}
	out, err := s.services(ctx, "pg-argv")
	if err != nil {
		return err
	}
	// Benchmarks reconnect thousands of sockets at once; the api pool and
	// worker still fit in lib.sh's max_connections.
	// The bench reads where commits wait (bench/scenario/waits.go): WAL
	// write and fsync times (pg_stat_wal), and each bench message's commit
	// time (pg_xact_commit_timestamp), a few bytes per transaction.
	argv := append(argvOf(out), "-c", "track_wal_io_timing=on", "-c", "track_commit_timestamp=on")
	s.PG = proc.New("postgres", s.cfg.Dir, os.Environ(), argv...)
	s.AdminURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.PGPort)
	s.DatabaseURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/chatterly?sslmode=disable", s.PGPort)
	if err := s.startPG(ctx); err != nil {
		return err
	}
	if _, err := s.admin(ctx, `CREATE DATABASE chatterly`); err != nil {
		return err
	}
	if s.cfg.Fleet {
		return s.startFleetServices(ctx)
	}
	redisDir := filepath.Join(s.cfg.Dir, "redis")
	if err := os.MkdirAll(redisDir, 0o755); err != nil {
		return err
	}
	// As `make run` runs it: append-only file fsynced every second, so a
	// restart keeps the streams (up to the last second, which is what the
	// relay exists for).
	s.Redis = proc.New("redis", s.cfg.Dir, os.Environ(), "redis-server", "--port", strconv.Itoa(s.RedisPort),
		"--bind", "127.0.0.1", "--dir", redisDir, "--save", "", "--appendonly", "yes",
		"--appendfsync", "everysec", "--loglevel", "warning", "--daemonize", "no", "--maxclients", "10000",
		// What the bench reads of Redis's own waits around each phase
		// (LATENCY LATEST, SLOWLOG): events and commands of 1 ms or more.
		"--latency-monitor-threshold", "1", "--slowlog-log-slower-than", "1000")
	s.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", s.RedisPort)
	return s.startRedis(ctx)
}

func (s *Stack) startPG(ctx context.Context) error {
	return s.PG.StartReady(ctx, 30*time.Second, func() error {
		c, err := pgx.Connect(ctx, s.AdminURL)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

func (s *Stack) startRedis(ctx context.Context) error {
	return s.Redis.StartReady(ctx, 15*time.Second, func() error { return redisPing(s.RedisPort) })
}

// admin runs one statement on the server's postgres database.
func (s *Stack) admin(ctx context.Context, sql string) (string, error) {
	c, err := pgx.Connect(ctx, s.AdminURL)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	tag, err := c.Exec(ctx, sql)
	if err != nil {
		return "", fmt.Errorf("stack: %s: %w", sql, err)
	}
	return tag.String(), nil
}

// appEnv is the environment of the api, edge and worker processes.
func (s *Stack) appEnv(extra map[string]string) []string {
	vars := map[string]string{
		"DATABASE_URL": s.DatabaseURL,
		"REDIS_URL":    s.RedisURL,
		"JWT_KEY_DIR":  s.KeyDir,
		"LOG_LEVEL":    "warn",
		// Spelled out so the bench's own clients agree with the processes.
		"REDIS_KEY_PREFIX": KeyPrefix,
		"STREAM_SHARDS":    strconv.Itoa(Shards),
	}
	for k, v := range s.cfg.Env {
		vars[k] = v
	}
	s.fleet.env(vars)
	for k, v := range extra {
		vars[k] = v
	}
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// run runs a one-shot subcommand of a built binary (migrate, keygen).
func (s *Stack) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, binary(s.BinDir, name), args...)
	// Migrations take session advisory locks: never through PgBouncer.
	cmd.Env = s.appEnv(map[string]string{"DATABASE_URL": s.DatabaseURL})
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("stack: %s %v: %w\n%s", name, args, err, out)
	}
	return nil
}

func (s *Stack) startApp(ctx context.Context, built []string) error {
	if err := s.run(ctx, "api", "migrate"); err != nil {
		return err
	}
	if err := os.MkdirAll(s.KeyDir, 0o700); err != nil {
		return err
	}
	if err := s.run(ctx, "api", "keygen"); err != nil {
		return err
	}
	// The first api, then two per edge (WebSocket, admin), then the
	// first api's admin, then the worker's, then two per further api.
	apis := 1
	if s.cfg.Fleet {
		apis = FleetAPIs
	}
	ports, err := FreePorts(3 + 2*s.cfg.Edges + 2*(apis-1))
	if err != nil {
		return err
	}
	for i := 0; i < apis; i++ {
		addr, admin, name := ports[0], ports[1+2*s.cfg.Edges], "api"
		if i > 0 {
			addr, admin, name = ports[1+2*s.cfg.Edges+2*i], ports[2+2*s.cfg.Edges+2*i], fmt.Sprintf("api%d", i)
		}
		url := fmt.Sprintf("http://127.0.0.1:%d", addr)
		p := proc.New(name, s.cfg.Dir, s.appEnv(map[string]string{"API_ADDR": strings.TrimPrefix(url, "http://"),
			"API_ADMIN_ADDR": fmt.Sprintf("127.0.0.1:%d", admin)}), binary(s.BinDir, "api"))
		s.APIs, s.APIURLs = append(s.APIs, p), append(s.APIURLs, url)
		s.APIAdminURLs = append(s.APIAdminURLs, fmt.Sprintf("http://127.0.0.1:%d", admin))
		if err := startAPI(ctx, p, url); err != nil {
			return err
		}
	}
	s.API, s.APIURL = s.APIs[0], s.APIURLs[0]
	if slices.Contains(built, "edge") {
		for i := 0; i < s.cfg.Edges; i++ {
			addr := fmt.Sprintf("127.0.0.1:%d", ports[1+2*i])
			admin := fmt.Sprintf("127.0.0.1:%d", ports[2+2*i])
			e := &Edge{Addr: addr, URL: "ws://" + addr + "/cable", AdminURL: "http://" + admin,
				Proc: proc.New(fmt.Sprintf("edge%d", i), s.cfg.Dir, s.appEnv(edgeEnv(i, addr, admin)), binary(s.BinDir, "edge"))}
			s.Edges = append(s.Edges, e)
			if err := s.startEdge(ctx, e); err != nil {
				return err
			}
		}
	}
	if slices.Contains(built, "worker") {
		s.WorkerURL = fmt.Sprintf("http://127.0.0.1:%d", ports[2+2*s.cfg.Edges])
		s.Worker = proc.New("worker", s.cfg.Dir, s.appEnv(map[string]string{"WORKER_ADDR": strings.TrimPrefix(s.WorkerURL, "http://")}),
			binary(s.BinDir, "worker"))
		if err := s.startWorker(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) startAPI(ctx context.Context) error { return startAPI(ctx, s.API, s.APIURL) }

func startAPI(ctx context.Context, p *proc.Proc, url string) error {
	return p.StartReady(ctx, 30*time.Second, func() error { return proc.HTTPOK(url + "/readyz") })
}

func (s *Stack) startEdge(ctx context.Context, e *Edge) error {
	return e.StartReady(ctx, 30*time.Second, func() error {
		if err := tcpOpen(e.Addr); err != nil {
			return err
		}
		return proc.HTTPOK(e.AdminURL + "/readyz")
	})
}

func (s *Stack) startWorker(ctx context.Context) error {
	return s.Worker.StartReady(ctx, 30*time.Second, func() error { return proc.HTTPOK(s.WorkerURL + "/readyz") })
}

// Stop stops the application processes (edges, api, worker: SIGTERM,
// graceful), then Postgres (SIGINT, its fast shutdown) and Redis, and
// checks that none is left running.
func (s *Stack) Stop() error {
	var errs []error
	for _, e := range s.Edges {
		errs = append(errs, e.Stop(syscall.SIGTERM, 20*time.Second))
	}
	for _, p := range append([]*proc.Proc{s.Worker}, s.APIs...) {
		if p != nil {
			errs = append(errs, p.Stop(syscall.SIGTERM, 20*time.Second))
		}
	}
	errs = append(errs, s.fleet.stop())
	if s.PG != nil {
		errs = append(errs, s.PG.Stop(syscall.SIGINT, 30*time.Second))
	}
	if s.Redis != nil {
		errs = append(errs, s.Redis.Stop(syscall.SIGTERM, 15*time.Second))
	}
	for _, p := range s.Procs() {
		if p.Running() {
			errs = append(errs, fmt.Errorf("stack: %s still running after stop", p.Name))
		}
	}
	return errors.Join(errs...)
}

// Procs lists every process of the stack.
func (s *Stack) Procs() []*proc.Proc {
	var out []*proc.Proc
	for _, p := range append([]*proc.Proc{s.PG, s.Redis, s.Worker}, s.APIs...) {
		if p != nil {
			out = append(out, p)
		}
	}
	out = append(out, s.fleet.procs()...)
	for _, e := range s.Edges {
		out = append(out, e.Proc)
	}
	return out
}
