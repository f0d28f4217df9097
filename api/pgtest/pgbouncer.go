package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/chatterly/chatterly/api/dial"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PgBouncerEnv is the package-level switch: with TEST_PGBOUNCER=1 the
// processes under test (the api of apitest, the worker of workertest, the
// pools of Pool and ProcessPool) reach their databases through the test
// binary's own PgBouncer in transaction pooling mode, configured as
// DATABASE_PGBOUNCER=1 configures chatterly-api and chatterly-worker.
// Creating databases and migrating them still connect to Postgres
// directly (they take session advisory locks, which transaction pooling
// cannot keep), and so do the tests' own connections from URL.
const PgBouncerEnv = "TEST_PGBOUNCER"

// pgbouncerBin is the binary of Debian's pgbouncer package.
const pgbouncerBin = "/usr/sbin/pgbouncer"

// ThroughPgBouncer reports whether the switch is on.
func ThroughPgBouncer() bool { return os.Getenv(PgBouncerEnv) == "1" }

// ProcessURL returns the URL a process under test reaches the database at
// dbURL (a URL from URL) by, and whether it goes through PgBouncer: dbURL
// itself, or with TEST_PGBOUNCER=1 the same database through the test
// binary's PgBouncer (started on first use), the process then to run with
// DATABASE_PGBOUNCER=1.
func ProcessURL(t testing.TB, dbURL string) (string, bool) {
	t.Helper()
	if !ThroughPgBouncer() {
		return dbURL, false
	}
	b, err := sharedBouncer(AdminURL(t))
	if err != nil {
		t.Fatalf("pgtest: pgbouncer: %v", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Host = fmt.Sprintf("127.0.0.1:%d", b.port)
	return u.String(), true
}

// ProcessPool returns a pool on the database at dbURL as a process under
// test opens it (api/dial): through PgBouncer with TEST_PGBOUNCER=1,
// directly otherwise. It is closed when the test ends.
func ProcessPool(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	var pool *pgxpool.Pool
	var err error
	if u, bounce := ProcessURL(t, dbURL); bounce {
		pool, err = dial.Postgres(context.Background(), u, 8, true, 0, slog.New(slog.DiscardHandler), "postgres")
	} else {
		pool, err = pgxpool.New(context.Background(), dbURL)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// bouncer is a pgbouncer of the test binary's own: its own ini, port,
// log and pid file in a folder of its own, in front of the test server.
type bouncer struct {
	port int
	dir  string
	srv  *server
}

var (
	bouncerMu  sync.Mutex
	theBouncer *bouncer
)

// sharedBouncer starts the test binary's PgBouncer in front of the server
// of admin on first use; Main stops it.
func sharedBouncer(admin string) (*bouncer, error) {
	bouncerMu.Lock()
	defer bouncerMu.Unlock()
	if theBouncer != nil && !theBouncer.srv.exited() {
		return theBouncer, nil
	}
	if !mainRan {
		return nil, errNoMain
	}
	if err := ensurePgBouncer(); err != nil {
		return nil, err
	}
	o, err := serverOwner()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, err
	}
	dir, err := o.mkdir("chatterly-pgbouncer-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a port taken between the pick and the bind: another
		port, err := pickPort()
		if err != nil {
			return nil, err
		}
		ini, err := writeBouncerConfig(o, dir, port, u)
		if err != nil {
			return nil, err
		}
		srv, err := startServer(o, dir, filepath.Join(dir, "pgbouncer.log"), func() bool { return accepts(port) }, pgbouncerBin, ini)
		if err == nil {
			theBouncer = &bouncer{port: port, dir: dir, srv: srv}
			addStop(theBouncer.stop)
			return theBouncer, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// writeBouncerConfig writes dir/pgbouncer.ini and its user list. Any
// database name goes to the database of that name on the test server, as
// the admin URL's user (auth_type any: the test server is a trusted
// loopback one). Transaction pooling, as in production (deploy/compose):
// a server connection is a client's only for one transaction.
func writeBouncerConfig(o owner, dir string, port int, admin *url.URL) (string, error) {
	host, pgPort := admin.Hostname(), admin.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	target := fmt.Sprintf("host=%s port=%s user=%s", host, pgPort, admin.User.Username())
	if pw, ok := admin.User.Password(); ok {
		target += " password=" + pw
	}
	ini := filepath.Join(dir, "pgbouncer.ini")
	conf := fmt.Sprintf(`[databases]
* = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, target, port, filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
		return "", err
	}
	return ini, os.Chown(ini, o.uid, o.gid)
}

func (b *bouncer) stop() {
	b.srv.kill()
	os.RemoveAll(b.dir)
}

// ensurePgBouncer installs Debian's pgbouncer package when its binary is
// missing: as root with apt-get (one binary at a time, under a file lock,
// since test binaries run in parallel), otherwise it fails with the
// command to run. The package's own service is never used: if installing
// started it, it is stopped and disabled, so only the test's pgbouncer
// (own ini, own port) runs.
func ensurePgBouncer() error {
	if _, err := os.Stat(pgbouncerBin); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is missing: install it with `sudo apt-get install -y pgbouncer`", pgbouncerBin)
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "chatterly-pgbouncer-install.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(pgbouncerBin); err == nil {
		return nil // another test binary installed it meanwhile
	}
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "-qq", "pgbouncer")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get install -y pgbouncer: %w\n%s", err, out)
		}
		return nil
	}
	if err := install(); err != nil {
		// The package lists may be missing or stale: refresh, then retry.
		if out, uerr := exec.Command("apt-get", "update", "-qq").CombinedOutput(); uerr != nil {
			return fmt.Errorf("%v; apt-get update: %v\n%s", err, uerr, out)
		}
		if err := install(); err != nil {
			return err
		}
	}
	// The package's service, if its installation started one: stop it and
	// keep it from starting at boot. Failures here mean it was not running.
	if _, err := os.Stat("/etc/init.d/pgbouncer"); err == nil {
		_ = exec.Command("/etc/init.d/pgbouncer", "stop").Run()
		_ = exec.Command("update-rc.d", "pgbouncer", "disable").Run()
	}
	if _, err := exec.LookPath("systemctl"); err == nil {
		_ = exec.Command("systemctl", "disable", "--now", "pgbouncer").Run()
	}
	if _, err := os.Stat(pgbouncerBin); err != nil {
		return fmt.Errorf("apt-get install -y pgbouncer did not provide %s", pgbouncerBin)
	}
	return nil
}
