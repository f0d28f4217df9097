package call_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/schema"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// privatePG is a Postgres server of the test's own, in a temporary
// folder, so the test may stop it without harming anyone else's tests.
type privatePG struct {
	cmd *exec.Cmd
	// URL is the migrated chatterly database on it.
	URL  string
	done chan struct{}
}

// startPrivatePG runs initdb and postgres from `pg_config --bindir` (as the
// postgres system user when the test runs as root, as Postgres demands),
// creates and migrates a database, and returns the running server. It is
// stopped when the test ends if the test did not stop it.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	out, err := exec.Command("pg_config", "--bindir").Output()
	require.NoError(t, err, "pg_config is needed to start a private Postgres")
	bin := strings.TrimSpace(string(out))
	tmp := t.TempDir()
	data := filepath.Join(tmp, "pg")
	require.NoError(t, os.Mkdir(data, 0o700))
	asPG := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = "/" // the postgres user may not be able to enter the test's folder
		return cmd
	}
	if os.Getuid() == 0 {
		pg, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs a postgres system user")
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		// t.TempDir's folders are 0700 root: let the postgres user through.
		for d := tmp; d != os.TempDir() && strings.HasPrefix(d, os.TempDir()); d = filepath.Dir(d) {
			require.NoError(t, os.Chmod(d, 0o711))
		}
		require.NoError(t, os.Chown(data, uid, gid))
		wrap := asPG
		asPG = func(name string, args ...string) *exec.Cmd {
			cmd := wrap(name, args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			return cmd
		}
	}
	init := asPG("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
	b, err := init.CombinedOutput()
	require.NoError(t, err, "initdb: %s", b)

	port := proctest.FreePort(t)
	p := &privatePG{done: make(chan struct{})}
	p.cmd = asPG("postgres", "-D", data, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+data, "-c", "fsync=off", "-c", "max_connections=50",
		"-c", "log_min_messages=warning")
	logs := &proctest.Buffer{}
	p.cmd.Stdout, p.cmd.Stderr = logs, logs
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.Stop(t) })

	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ctx := context.Background()
	var conn *pgx.Conn
	require.Eventually(t, func() bool {
		conn, err = pgx.Connect(ctx, admin)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "private postgres did not start: %s", logs)
	_, err = conn.Exec(ctx, "CREATE DATABASE chatterly")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/chatterly?sslmode=disable", port)
	db, err := pgx.Connect(ctx, p.URL)
	require.NoError(t, err)
	defer db.Close(ctx)
	_, err = schema.Migrate(ctx, db)
	require.NoError(t, err)
	return p
}

// Stop shuts the server down (SIGINT: Postgres' fast shutdown, which ends
// every connection) and waits for it to exit.
func (p *privatePG) Stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Error("private postgres did not stop within 30 s")
	}
}
