package pgtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The servers pgtest starts itself (a primary with replicas, PgBouncer)
// listen on loopback ports of this range, below the ephemeral ports, so
// they never meet a port the kernel hands out for a client connection.
const (
	portLow  = 23000
	portHigh = 23999
)

// pickPort returns a port of the range nothing listens on right now,
// starting at a random one so that concurrent test binaries rarely try the
// same. A server that then fails to bind it is started again on another
// (see startServer).
func pickPort() (int, error) {
	n := portHigh - portLow + 1
	start := rand.IntN(n)
	for i := range n {
		p := portLow + (start+i)%n
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("pgtest: no free port in %d-%d", portLow, portHigh)
}

// pgBinDir is the folder of the Postgres server binaries (initdb,
// postgres, pg_ctl, pg_basebackup), which Debian keeps off the PATH: the
// newest /usr/lib/postgresql/*/bin, as deploy/local/lib.sh finds it.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("pgtest: no Postgres server binaries (initdb, postgres, pg_basebackup): install them with `sudo apt-get install -y postgresql`")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// owner is the account the servers run as: Postgres (and PgBouncer)
// refuse to run as root, so as root they run as the postgres system user,
// otherwise as ourselves.
type owner struct {
	cred     *syscall.Credential // nil: ourselves
	uid, gid int
}

var (
	ownerOnce sync.Once
	theOwner  owner
	ownerErr  error
)

func serverOwner() (owner, error) {
	ownerOnce.Do(func() {
		if os.Geteuid() != 0 {
			theOwner = owner{uid: os.Geteuid(), gid: os.Getegid()}
			return
		}
		u, err := user.Lookup("postgres")
		if err != nil {
			ownerErr = fmt.Errorf("pgtest: running as root, the servers need the postgres system user (the postgresql package makes it): %w", err)
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		theOwner = owner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid: uid, gid: gid}
	})
	return theOwner, ownerErr
}

// command is argv run as the servers' owner, in dir, with a plain
// environment.
func (o owner) command(dir string, argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8", "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
	return cmd
}

// run runs argv as the owner and returns its error with its output.
func (o owner) run(dir string, argv ...string) error {
	out, err := o.command(dir, argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(argv[0]), err, out)
	}
	return nil
}

// mkdir makes a folder the owner may write, under the system's temporary
// folder (readable by the postgres user even when the test runs as root,
// unlike a test's TempDir under a 0700 parent).
func (o owner) mkdir(pattern string) (string, error) {
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return "", err
	}
	if err := os.Chown(d, o.uid, o.gid); err != nil {
		os.RemoveAll(d)
		return "", err
	}
	return d, nil
}

// server is a foreground server process (postgres, pgbouncer) run as the
// owner. It is a child of the test binary with a parent-death signal, so
// a test binary that dies (a timeout's panic) takes its servers with it.
type server struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// startServer starts argv (as the owner, its output to logPath) and waits
// until ready reports true, for at most 60 s.
func startServer(o owner, dir, logPath string, ready func() bool, argv ...string) (*server, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	if err := os.Chown(logPath, o.uid, o.gid); err != nil { // the server may open it too
		return nil, err
	}
	cmd := o.command(dir, argv...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		select {
		case <-s.done:
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s exited at start:\n%s", filepath.Base(argv[0]), b)
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s did not become ready within 60s:\n%s", filepath.Base(argv[0]), b)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	return s, nil
}

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// kill ends the process at once and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// accepts reports whether something accepts TCP connections on port.
func accepts(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
