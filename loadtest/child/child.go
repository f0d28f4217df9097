// Package child is the one protocol between a load process and the child
// processes that hold its sockets (so that no process passes the
// open-files limit): the parent writes one JSON request a line on the
// child's stdin, the child answers each with one JSON line on its stdout,
// in order. The child's stderr is its log. A child dies with its parent
// (SIGKILL as its parent-death signal) and exits when its stdin ends.
//
// chatterly-load's workers (loadtest/swarm) and the bench's socket
// children (bench/sockets) both speak it.
package child

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Proc is the parent's handle on one child process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	dec  *json.Decoder
	mu   sync.Mutex
	done chan struct{}
}

// Start starts cmd (its Stderr set by the caller) as a child. onExit, when
// not nil, runs once the child has exited (to close its log file).
func Start(name string, cmd *exec.Cmd, onExit func()) (*Proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("child: start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, in: in, dec: json.NewDecoder(bufio.NewReaderSize(out, 1<<20)), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		if onExit != nil {
			onExit()
		}
		close(p.done)
	}()
	return p, nil
}

// PID is the child's process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Call sends req and decodes the child's answer into resp. Calls from
// several goroutines are served one at a time.
func (p *Proc) Call(req, resp any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("child %s: %w", p.Name, err)
	}
	if err := p.dec.Decode(resp); err != nil {
		return fmt.Errorf("child %s: read: %w", p.Name, err)
	}
	return nil
}

// Close ends the child's stdin, its cue to exit, and waits for it; a
// child that has not exited within 10 s is killed.
func (p *Proc) Close() error {
	p.in.Close()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("child %s did not exit; killed", p.Name)
	}
}

// Serve is the child's side: it decodes each request line from in into a
// new Req and writes handle's answer as one line on out, until handle says
// stop (after its answer is written) or in ends (the parent closed it or
// died).
func Serve[Req any](in io.Reader, out io.Writer, handle func(Req) (resp any, stop bool)) error {
	dec := json.NewDecoder(bufio.NewReaderSize(in, 1<<20))
	enc := json.NewEncoder(out)
	for {
		var req Req
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("child: read request: %w", err)
		}
		resp, stop := handle(req)
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("child: write answer: %w", err)
		}
		if stop {
			return nil
		}
	}
}
