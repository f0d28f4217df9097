package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Pair is one test's database on a primary of the test binary's own and
// on a streaming replica made for the test (pg_basebackup), each a real
// Postgres server from the distribution's binaries on its own port and
// data folder.
type Pair struct {
	// PrimaryURL and ReplicaURL reach the test's database on each.
	PrimaryURL, ReplicaURL string
	// Replica is the replica's server, which the test may stop, start
	// and pause.
	Replica *Standby
}

// Replicated makes a Pair for t: a fresh migrated database on the test
// binary's primary (started on first use; the package's TestMain calls
// Main, which stops it), then a replica of the primary, removed when the
// test ends. Each test has its replica to stop or pause alone.
func Replicated(t testing.TB) *Pair {
	t.Helper()
	p, err := sharedPrimary()
	if err != nil {
		t.Fatalf("pgtest: primary: %v", err)
	}
	p.tmplOnce.Do(func() { p.tmpl, p.tmplErr = ensureTemplate(p.admin()) })
	if p.tmplErr != nil {
		t.Fatalf("pgtest: template database on the primary: %v", p.tmplErr)
	}
	name := newDatabase(t, p.admin(), p.tmpl)
	s, err := p.replicate()
	if err != nil {
		t.Fatalf("pgtest: replica: %v", err)
	}
	t.Cleanup(s.remove)
	s.t = t
	return &Pair{PrimaryURL: withDatabase(p.admin(), name), ReplicaURL: withDatabase(s.admin(), name), Replica: s}
}

// pgServer is a Postgres server pgtest runs: its data folder, port and
// process.
type pgServer struct {
	o    owner
	bin  string
	dir  string // holds data/ and the server's socket and log
	port int
	srv  *server
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

func (s *pgServer) admin() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// settings are the server's flags, the same for the primary and its
// replicas (a hot standby refuses to start with a lower max_connections,
// max_wal_senders… than its primary). Durability is off: a test server's
// data is thrown away.
func (s *pgServer) argv() []string {
	return []string{filepath.Join(s.bin, "postgres"), "-D", s.data(), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + s.dir,
		"-c", "max_connections=200", "-c", "shared_buffers=32MB",
		"-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "wal_level=replica", "-c", "max_wal_senders=20", "-c", "wal_keep_size=512MB",
		"-c", "hot_standby=on", "-c", "log_min_messages=warning", "-c", "log_line_prefix=%m "}
}

// start runs the server on its port and waits until it answers a query.
func (s *pgServer) start() error {
	srv, err := startServer(s.o, s.dir, filepath.Join(s.dir, "postgres.log"), s.answers, s.argv()...)
	if err != nil {
		return err
	}
	s.srv = srv
	return nil
}

func (s *pgServer) answers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.admin())
	if err != nil {
		return false
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "SELECT 1")
	return err == nil
}

// stop asks pg_ctl for a stop in mode (fast, immediate) and waits for the
// process to end.
func (s *pgServer) stop(mode string) error {
	if s.srv == nil || s.srv.exited() {
		return nil
	}
	err := s.o.run(s.dir, filepath.Join(s.bin, "pg_ctl"), "stop", "-D", s.data(), "-m", mode, "-w", "-t", "30")
	select {
	case <-s.srv.done:
	case <-time.After(30 * time.Second):
		s.srv.kill()
	}
	return err
}

// remove stops the server at once and deletes its folder.
func (s *pgServer) remove() {
	if err := s.stop("immediate"); err != nil && s.srv != nil {
		s.srv.kill()
	}
	os.RemoveAll(s.dir)
}

// primary is the test binary's primary: it hosts the tests' databases
// (cloned from its own migrated template) and streams its WAL to their
// replicas.
type primary struct {
	pgServer
	tmplOnce sync.Once
	tmpl     string
	tmplErr  error
}

var (
	primaryMu  sync.Mutex
	thePrimary *primary
)

// sharedPrimary initdbs and starts the test binary's primary on first
// use; Main stops it and removes its folder.
func sharedPrimary() (*primary, error) {
	primaryMu.Lock()
	defer primaryMu.Unlock()
	if thePrimary != nil {
		return thePrimary, nil
	}
	if !mainRan {
		return nil, errNoMain
	}
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	o, err := serverOwner()
	if err != nil {
		return nil, err
	}
	dir, err := o.mkdir("chatterly-pgprimary-")
	if err != nil {
		return nil, err
	}
	p := &primary{pgServer: pgServer{o: o, bin: bin, dir: dir}}
	if err := o.run(dir, filepath.Join(bin, "initdb"), "-D", p.data(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.startOnFreePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	thePrimary = p
	addStop(p.remove)
	return p, nil
}

// startOnFreePort starts the server on a port of pgtest's range, another
// one when the port was taken meanwhile.
func (s *pgServer) startOnFreePort() error {
	var err error
	for range 3 {
		if s.port, err = pickPort(); err != nil {
			return err
		}
		if err = s.start(); err == nil {
			return nil
		}
	}
	return err
}

// replicate makes a streaming replica of p with pg_basebackup (its
// standby.signal and primary_conninfo written by -R) and starts it.
func (p *primary) replicate() (*Standby, error) {
	dir, err := p.o.mkdir("chatterly-pgreplica-")
	if err != nil {
		return nil, err
	}
	s := &Standby{pgServer: pgServer{o: p.o, bin: p.bin, dir: dir}}
	if err := p.o.run(dir, filepath.Join(p.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.port),
		"-U", "postgres", "-D", s.data(), "-X", "stream", "-R", "-c", "fast", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.startOnFreePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Standby is a streaming replica of a test's own.
type Standby struct {
	pgServer
	t testing.TB
}

// Port is the replica's port.
func (s *Standby) Port() int { return s.port }

// Stop stops the replica with `pg_ctl stop -m fast` (its connections are
// ended, new ones refused) and waits until it is down.
func (s *Standby) Stop() {
	s.t.Helper()
	if err := s.stop("fast"); err != nil {
		s.t.Fatalf("pgtest: stop replica: %v", err)
	}
}

// Start starts the stopped replica again on its port and data folder; it
// resumes streaming from the primary.
func (s *Standby) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("pgtest: start replica: %v", err)
	}
}

// PauseReplay stops the replica applying the WAL it receives (it goes on
// answering, from the data it had): it lags from then on.
func (s *Standby) PauseReplay() {
	s.t.Helper()
	s.exec("SELECT pg_wal_replay_pause()")
	require(s.t, s.eventually(func(c *pgx.Conn) bool {
		var st string
		return c.QueryRow(context.Background(), "SELECT pg_get_wal_replay_pause_state()").Scan(&st) == nil && st == "paused"
	}), "replay did not pause")
}

// ResumeReplay lets the replica catch up again.
func (s *Standby) ResumeReplay() {
	s.t.Helper()
	s.exec("SELECT pg_wal_replay_resume()")
}

func (s *Standby) exec(sql string) {
	s.t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.admin())
	if err != nil {
		s.t.Fatalf("pgtest: replica: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		s.t.Fatalf("pgtest: replica: %s: %v", sql, err)
	}
}

// eventually polls ok on a connection to the replica for up to 10 s.
func (s *Standby) eventually(ok func(*pgx.Conn) bool) bool {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.admin())
	if err != nil {
		return false
	}
	defer c.Close(ctx)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok(c) {
			return true
		}
	}
	return false
}

func require(t testing.TB, ok bool, msg string) {
	t.Helper()
	if !ok {
		t.Fatalf("pgtest: %s", msg)
	}
}
