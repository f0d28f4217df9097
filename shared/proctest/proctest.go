// Package proctest runs Chatterly binaries (the api, the edge, the worker)
// for black-box tests: it builds a command once per test binary, starts it
// with an environment of the test's choosing, captures its log, waits for a
// JSON log line, and stops it (SIGTERM or SIGKILL) when the test ends.
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
	dir     string
)

// Build compiles the command package pkg (an import path) once per test
// binary and returns the path of the executable.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	makeDir(t)
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// BuildAll compiles several command packages in one go build, which links
// them in parallel (a test that runs several binaries starts sooner), and
// remembers them for Build.
func BuildAll(t testing.TB, pkgs ...string) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	var todo []string
	for _, pkg := range pkgs {
		if _, ok := built[pkg]; !ok {
			todo = append(todo, pkg)
		}
	}
	if len(todo) == 0 {
		return
	}
	makeDir(t)
	cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, todo...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", todo, err, b)
	}
	for _, pkg := range todo {
		built[pkg] = filepath.Join(dir, filepath.Base(pkg))
	}
}

// makeDir makes the folder of the built binaries once; buildMu is held.
func makeDir(t testing.TB) {
	if dir != "" {
		return
	}
	d, err := os.MkdirTemp("", "chatterly-proctest")
	if err != nil {
		t.Fatal(err)
	}
	dir = d
}

// Cleanup removes the built binaries; Main calls it after the tests.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// Main runs a package's tests and then Cleanup: a package that builds
// binaries has `func TestMain(m *testing.M) { proctest.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Process is a running binary.
type Process struct {
	Cmd  *exec.Cmd
	Log  *Buffer
	done chan struct{}
	err  error
	mu   sync.Mutex
	seen []map[string]any
	cond *sync.Cond
}

// Buffer is a log safe for concurrent writes and reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs argv with env (and PATH) and kills it when the test ends,
// printing its log if the test failed.
func Start(t testing.TB, env map[string]string, argv ...string) *Process {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	pr, pw := io.Pipe()
	p := &Process{Cmd: cmd, Log: &Buffer{}, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	cmd.Stdout = p.Log
	cmd.Stderr = io.MultiWriter(pw, p.Log)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				p.mu.Lock()
				p.seen = append(p.seen, line)
				p.cond.Broadcast()
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(argv[0]), p.Log)
		}
	})
	return p
}

// WaitLog waits for a JSON log line whose msg is msg and returns it.
func (p *Process) WaitLog(t testing.TB, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; ; {
		for ; i < len(p.seen); i++ {
			if p.seen[i]["msg"] == msg {
				return p.seen[i]
			}
		}
		if p.Exited() {
			t.Fatalf("process exited before logging %q: %v\n%s", msg, p.err, p.Log)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q logged within %s\n%s", msg, timeout, p.Log)
		}
		p.cond.Wait()
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) {
	if p.Cmd.Process != nil {
		_ = p.Cmd.Process.Signal(sig)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process ends; Err is then its exit error.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error, once Done is closed.
func (p *Process) Err() error { return p.err }

// Pid is the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// FreePort returns a loopback port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreePortsIn picks n loopback ports of low..high-1 that nothing listens
// on now, from a random start so that packages picking at once seldom pick
// the same. Servers a test starts take ports below 32768, outside the
// kernel's ephemeral range, where a port picked now could be taken by an
// outgoing connection before the server binds it.
func FreePortsIn(n, low, high int) ([]int, error) {
	span := high - low
	start := rand.IntN(span)
	var out []int
	for i := 0; i < span && len(out) < n; i++ {
		p := low + (start+i)%span
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		out = append(out, p)
	}
	if len(out) < n {
		return nil, fmt.Errorf("proctest: %d free ports wanted in %d-%d, found %d", n, low, high-1, len(out))
	}
	return out, nil
}

// Status returns the HTTP status of GET url (0 when unreachable).
func Status(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return 0
	}
	r.Body.Close()
	return r.StatusCode
}

// Addr formats a loopback address.
func Addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
