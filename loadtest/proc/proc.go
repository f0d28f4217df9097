// Package proc runs the processes a load run starts (servers, the api, an
// edge, the worker, load generators): each in its own process group, its
// output in a log file, stopped by signal with a grace period.
package proc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Proc is one process the stack started: a server, the api, an edge, the
// worker, or a load generator. Its output goes to <dir>/<name>.log.
type Proc struct {
	Name string
	argv []string
	env  []string
	log  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// New describes a process; Start runs it.
func New(name, logDir string, env []string, argv ...string) *Proc {
	return &Proc{Name: name, argv: argv, env: env, log: filepath.Join(logDir, name+".log")}
}

// Start runs the process in its own process group, so Stop reaches any
// children, with SIGKILL as its parent-death signal, so a bench that dies
// does not leave it running (Postgres, which drops privileges, loses that
// signal; Stack.Stop and the stale-pid check at start cover it).
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...) // #nosec: the stack's own binaries
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// SetArgv changes the command line the next Start runs and returns the
// one it replaces (the profiled reruns swap a piece's binary for a while).
func (p *Proc) SetArgv(argv ...string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.argv
	p.argv = argv
	return old
}

// Signal sends sig to the running process.
func (p *Proc) Signal(sig syscall.Signal) error {
	pid := p.PID()
	if pid == 0 {
		return errors.New(p.Name + " is not running")
	}
	return syscall.Kill(pid, sig)
}

// PID is the process id, or 0 when it is not running.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// exited reports whether the running command ended; p.mu must be held.
func (p *Proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Running reports whether the process is alive.
func (p *Proc) Running() bool { return p.PID() != 0 }

// Done is closed when the current run of the process ends.
func (p *Proc) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Stop sends sig to the process group and waits up to grace for the
// process to end, then kills the group. It is a no-op when not running.
func (p *Proc) Stop(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	_ = cmd.Process.Signal(sig) // setpriv'd Postgres is its own group leader anyway
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	select {
	case <-done:
		return fmt.Errorf("%s did not stop within %s; killed", p.Name, grace)
	case <-time.After(5 * time.Second):
		return errors.New(p.Name + " survived SIGKILL")
	}
}

// Err is how the last run ended (nil while running or after a clean exit).
func (p *Proc) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// LogPath is where the process's output goes.
func (p *Proc) LogPath() string { return p.log }

// Tail returns the last n bytes of the process's log, for error messages.
func (p *Proc) Tail(n int64) string {
	f, err := os.Open(p.log)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}

// StartReady starts the process and waits until check succeeds
// (WaitReady).
func (p *Proc) StartReady(ctx context.Context, timeout time.Duration, check func() error) error {
	if err := p.Start(); err != nil {
		return err
	}
	return p.WaitReady(ctx, timeout, check)
}

// WaitReady polls check until it succeeds, the process exits, or timeout
// passes.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s: %v\n%s", p.Name, timeout, last, p.Tail(2000))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.Done():
			return fmt.Errorf("%s exited (%v) before it was ready:\n%s", p.Name, p.Err(), p.Tail(2000))
		case <-tick.C:
		}
	}
}

// HTTPOK is a readiness check: GET url answers 200.
func HTTPOK(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
