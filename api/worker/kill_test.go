package worker_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/stretchr/testify/require"
)

// process is the chatterly-worker binary running as a child process.
type process struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// buildWorker compiles chatterly-worker into a temporary folder.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatterly-worker")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/chatterly-worker").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// spawn starts the binary on e's database and keys and waits until it is
// ready.
func (e *env) spawn(t *testing.T, bin string) *process {
	t.Helper()
	p := &process{addr: freeAddr(t)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), "LOG_LEVEL=info")
	for k, v := range e.vars {
		if k != "LOG_LEVEL" {
			p.cmd.Env = append(p.cmd.Env, k+"="+v)
		}
	}
	p.cmd.Env = append(p.cmd.Env, "WORKER_ADDR="+p.addr)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		code, _ := httpGet(t, "http://"+p.addr+"/readyz")
		return code == 200
	}, 20*time.Second, 50*time.Millisecond, "worker not ready:\n%s", p.output())
	return p
}

// kill ends the process with SIGKILL: no shutdown, no goodbye.
func (p *process) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	err := p.cmd.Wait()
	require.Error(t, err, "killed, not exited")
}

func TestTheMissedCallJobSurvivesAKilledWorker(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	e := newEnv(t, timeout)
	bin := buildWorker(t)

	first := e.spawn(t, bin)
	c := e.newCall(t)
	first.kill(t)

	// Past the timeout, with no worker: nobody turned the call missed,
	// and its job is still queued in Postgres.
	require.Eventually(t, func() bool { return time.Since(c.CreatedAt) > timeout+200*time.Millisecond },
		2*timeout, 20*time.Millisecond)
	require.Equal(t, call.Calling, e.get(t, c).Status)
	require.Equal(t, "scheduled", e.jobState(t, c))

	second := e.spawn(t, bin)
	restarted := time.Now()
	require.Eventually(t, func() bool { return e.get(t, c).Status == call.Missed }, 10*time.Second, 20*time.Millisecond,
		"worker output:\n%s", second.output())
	t.Logf("missed %v after the restart", time.Since(restarted).Round(time.Millisecond))

	// River itself runs the job too, once the new process is its leader
	// (the killed one's leadership has to expire first: up to ~20 s).
	require.Eventually(t, func() bool { return e.jobState(t, c) == "completed" }, 45*time.Second, 200*time.Millisecond,
		"worker output:\n%s", second.output())
	require.NoError(t, second.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, second.cmd.Wait(), "a clean stop on SIGTERM:\n%s", second.output())
}
