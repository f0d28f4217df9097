package local_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// TestRun starts deploy/local/run.sh (make run's script) as a shell starts
// make run: in a process group of its own, with its own data folder and
// ports, the web client being a small fixture with run.sh's build and start
// contract. The subtests run in order: they share the data folder, so the
// first initialises Postgres and builds the web fixture, and the later ones
// see that build reused, then redone after a change.
func TestRun(t *testing.T) {
	env := newRunEnv(t)

	// make run's documented stop: Ctrl-C or SIGTERM to its process group.
	// Every process drains, Postgres shuts down cleanly, nothing is left.
	for i, c := range []struct {
		name string
		sig  syscall.Signal
	}{{"TERM", syscall.SIGTERM}, {"INT", syscall.SIGINT}} {
		t.Run("SIG"+c.name, func(t *testing.T) {
			s := env.start(t)
			s.waitReady(t)
			if i == 0 {
				s.out.require(t, "[stack] web: npm ci (package-lock.json changed)")
				s.out.require(t, "[web] fixture build done")
			} else {
				s.out.require(t, "[stack] web: build is up to date")
				s.out.forbid(t, "npm ci")
			}
			require.NoError(t, syscall.Kill(-s.pgid, c.sig))
			// make relays SIGTERM to its child: run.sh gets a second
			// signal while it stops, which must change nothing.
			s.out.wait(t, "[stack] stopping: draining", time.Minute)
			require.NoError(t, syscall.Kill(s.pgid, syscall.SIGTERM))
			s.waitExit(t)
			require.Equal(t, 0, s.status(), "run.sh's exit status after the documented stop")
			s.out.require(t, "[stack] got SIG"+c.name)
			s.requireDrained(t, "api", "edge", "worker", "web")
			s.requireCleanServices(t)
		})
	}

	// A process that ends unasked stops the whole stack, said plainly.
	t.Run("process dies", func(t *testing.T) {
		env.touchWeb(t)
		s := env.start(t)
		s.waitReady(t)
		s.out.require(t, "[stack] web: npm run build (web/ changed since the last build)")
		edge := s.pidOf(t, "edge")
		require.NoError(t, syscall.Kill(edge, syscall.SIGKILL))
		s.waitExit(t)
		require.Equal(t, 137, s.status(), "run.sh exits with the dead process's status")
		s.out.require(t, "[stack] edge exited with status 137 (SIGKILL) without being asked to stop: stopping the whole stack")
		s.requireDrained(t, "api", "worker", "web")
		s.requireCleanServices(t)
	})
}

// runEnv is what the subtests share: binaries, data folder, web fixture.
type runEnv struct {
	bin, stackDir, webDir string
}

func newRunEnv(t *testing.T) *runEnv {
	proctest.BuildAll(t, "github.com/chatterly/chatterly/api/cmd/chatterly-api",
		"github.com/chatterly/chatterly/edge/cmd/chatterly-edge", "github.com/chatterly/chatterly/api/cmd/chatterly-worker")
	api := proctest.Build(t, "github.com/chatterly/chatterly/api/cmd/chatterly-api")
	// Postgres runs as the postgres user when the test runs as root: the
	// data folder must be reachable by it, which t.TempDir's 0700 parents
	// are not.
	stackDir, err := os.MkdirTemp("/var/tmp", "chatterly-runtest-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(stackDir, 0o755))
	t.Cleanup(func() { os.RemoveAll(stackDir) })
	env := &runEnv{bin: filepath.Dir(api), stackDir: stackDir, webDir: filepath.Join(t.TempDir(), "web")}
	env.writeWeb(t)
	return env
}

// writeWeb makes the web fixture: a package with a local dependency (so
// npm ci makes node_modules without the network), a build that writes
// .next/BUILD_ID, and a server that listens at WEB_ADDR, serves the
// variables run.sh hands it, and drains on SIGTERM and SIGINT like web/'s
// start script, which also takes a second signal as "stop now" (exit 1).
func (e *runEnv) writeWeb(t *testing.T) {
	files := map[string]string{
		"package.json": `{"name":"web-fixture","version":"1.0.0","private":true,
"dependencies":{"fixture-dep":"file:./fixture-dep"},
"scripts":{"build":"node build.mjs","start":"node server.mjs"}}`,
		"package-lock.json": `{"name":"web-fixture","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{
"":{"name":"web-fixture","version":"1.0.0","dependencies":{"fixture-dep":"file:./fixture-dep"}},
"fixture-dep":{"version":"1.0.0"},
"node_modules/fixture-dep":{"resolved":"fixture-dep","link":true}}}`,
		"fixture-dep/package.json": `{"name":"fixture-dep","version":"1.0.0"}`,
		".gitignore":               "node_modules/\n.next/\n",
		"page.txt":                 "v1\n",
		"build.mjs": `import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('.next', { recursive: true });
writeFileSync('.next/BUILD_ID', String(Date.now()));
console.log('fixture build done');
`,
		"server.mjs": `import http from 'node:http';
const [host, port] = process.env.WEB_ADDR.split(':');
const config = { api: process.env.WEB_API_URL, cable: process.env.WEB_CABLE_URL,
  origins: process.env.ALLOWED_ORIGINS, telemetry: process.env.NEXT_TELEMETRY_DISABLED };
const server = http.createServer((req, res) => res.end(JSON.stringify(config)));
server.listen(Number(port), host, () => console.log('fixture listening ' + JSON.stringify(config)));
let stopping = false;
const stop = (sig) => {
  if (stopping) { console.log('fixture forced to stop by a second ' + sig); process.exit(1); }
  stopping = true;
  console.log('fixture draining on ' + sig);
  server.close(() => { console.log('fixture stopped'); process.exit(0); });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`,
	}
	for name, body := range files {
		p := filepath.Join(e.webDir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	// run.sh hashes the files git tracks or would track.
	out, err := exec.Command("git", "init", "-q", e.webDir).CombinedOutput()
	require.NoError(t, err, string(out))
}

// touchWeb changes a file of the web fixture, so the next start rebuilds.
func (e *runEnv) touchWeb(t *testing.T) {
	require.NoError(t, os.WriteFile(filepath.Join(e.webDir, "page.txt"), []byte("v2\n"), 0o644))
}

// stack is one run.sh.
type stack struct {
	cmd  *exec.Cmd
	pgid int
	out  *lines
	done chan struct{}
	web  string
}

// start runs run.sh with the test's data folder, ports and web fixture,
// and extra variables ("NAME=value") over them.
func (e *runEnv) start(t *testing.T, extra ...string) *stack {
	script, err := filepath.Abs("run.sh")
	require.NoError(t, err)
	port := func() string { return strconv.Itoa(proctest.FreePort(t)) }
	addr := func() string { return proctest.Addr(proctest.FreePort(t)) }
	s := &stack{out: newLines(), done: make(chan struct{}), web: addr()}
	s.cmd = exec.Command("bash", script)
	s.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"BIN=" + e.bin, "STACK_DIR=" + e.stackDir, "WEB_DIR=" + e.webDir,
		"LOCAL_PG_PORT=" + port(), "LOCAL_REDIS_PORT=" + port(),
		"API_ADDR=" + addr(), "API_ADMIN_ADDR=" + addr(), "EDGE_ADDR=" + addr(), "EDGE_ADMIN_ADDR=" + addr(),
		"WORKER_ADDR=" + addr(), "WEB_ADDR=" + s.web,
		// The edge spreads its disconnects over this window even with no
		// socket open; the default 5 s would only make the test slower.
		"EDGE_SHUTDOWN_WINDOW=200ms",
	}
	s.cmd.Env = append(s.cmd.Env, extra...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // as a shell starts a job
	require.NoError(t, s.cmd.Start())
	s.pgid = s.cmd.Process.Pid
	go func() { _ = s.cmd.Wait(); s.out.close(); close(s.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-s.pgid, syscall.SIGKILL) // whatever a failed test left
		<-s.done
		if t.Failed() {
			t.Logf("run.sh output:\n%s", s.out)
		}
	})
	return s
}

// waitReady waits until every process said it serves. The deadline only
// bounds a failure: on a machine shared by many builds a first start
// (initdb, npm ci) can take a minute.
func (s *stack) waitReady(t *testing.T) {
	deadline := time.Now().Add(3 * time.Minute)
	for _, line := range []string{
		`[api] {*"msg":"listening"`, `[edge] {*"msg":"edge listening"`,
		`[worker] {*"msg":"worker running"`, `[web] fixture listening`, `[stack] running; Ctrl-C stops everything`,
	} {
		s.out.wait(t, line, time.Until(deadline))
	}
	want := fmt.Sprintf(`"origins":"http://%s","telemetry":"1"`, s.web)
	s.out.require(t, "[web] fixture listening {*"+want)
	require.Equal(t, 200, proctest.Status("http://"+s.web+"/"))
}

func (s *stack) waitExit(t *testing.T) {
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("run.sh still running 2 minutes after the stop")
	}
}

func (s *stack) status() int { return s.cmd.ProcessState.ExitCode() }

// pidOf reads NAME's pid from run.sh's "NAME started (pid N)" line.
func (s *stack) pidOf(t *testing.T, name string) int {
	m := regexp.MustCompile(`\[stack\] ` + name + ` started \(pid (\d+)\)`).FindStringSubmatch(s.out.String())
	require.NotNil(t, m, "no start line for %s", name)
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// requireDrained checks each process's own shutdown line and its exit
// status 0 (a process killed by SIGPIPE or SIGKILL has another).
func (s *stack) requireDrained(t *testing.T, names ...string) {
	drained := map[string]string{
		"api":    `[api] {*"msg":"shutting down"`,
		"edge":   `[edge] {*"msg":"stopped"`,
		"worker": `[worker] {*"msg":"River client stopped"`,
		"web":    `[web] fixture stopped`,
	}
	for _, n := range names {
		s.out.require(t, drained[n])
		s.out.require(t, "[stack] "+n+" exited with status 0")
	}
	s.out.forbid(t, "SIGPIPE")
}

// requireCleanServices checks that Postgres shut down cleanly, Redis (or
// the Redis processes named) exited, run.sh finished its stop, and no
// process of the group is left.
func (s *stack) requireCleanServices(t *testing.T, redis ...string) {
	if len(redis) == 0 {
		redis = []string{"redis"}
	}
	s.out.require(t, "[postgres] LOG:  database system is shut down")
	s.out.require(t, "[stack] postgres exited with status 0")
	for _, r := range redis {
		s.out.require(t, "[stack] "+r+" exited with status 0")
	}
	s.out.require(t, "[stack] stopped")
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(-s.pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			out, _ := exec.Command("ps", "-o", "pid,stat,args", "-g", strconv.Itoa(s.pgid)).CombinedOutput()
			t.Fatalf("processes of the group left after run.sh exited:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lines collects run.sh's output line by line. A pattern is a line's
// prefix, where "*" matches anything: `[api] {*"msg":"listening"`.
type lines struct {
	mu     sync.Mutex
	cond   *sync.Cond
	all    []string
	part   []byte
	closed bool
}

func newLines() *lines {
	l := &lines{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.all = append(l.all, string(l.part[:i]))
		l.part = l.part[i+1:]
	}
	l.cond.Broadcast()
	return len(p), nil
}

func (l *lines) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.cond.Broadcast()
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n") + "\n" + string(l.part)
}

func match(pattern, line string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(line, parts[0]) {
		return false
	}
	rest := line[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// find returns the index of the first line matching pattern, or -1.
// The caller holds mu.
func (l *lines) find(pattern string) int {
	for i, line := range l.all {
		if match(pattern, line) {
			return i
		}
	}
	return -1
}

// wait waits for a line matching pattern until timeout or the end of output.
func (l *lines) wait(t *testing.T, pattern string, timeout time.Duration) {
	t.Helper()
	timer := time.AfterFunc(timeout, func() { l.mu.Lock(); l.cond.Broadcast(); l.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.find(pattern) < 0 {
		if l.closed {
			t.Fatalf("run.sh ended before printing %q", pattern)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s", pattern, timeout)
		}
		l.cond.Wait()
	}
}

func (l *lines) require(t *testing.T, pattern string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.find(pattern) < 0 {
		t.Fatalf("run.sh printed no line %q", pattern)
	}
}

func (l *lines) forbid(t *testing.T, substr string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.all {
		if strings.Contains(line, substr) {
			t.Fatalf("run.sh printed %q", line)
		}
	}
}
