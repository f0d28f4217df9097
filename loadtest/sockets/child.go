package sockets

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/loadtest/stats"
)

// The one protocol between a load process and the child processes that
// hold its sockets (so that no process passes the open-files limit): the
// parent writes one JSON Request a line on the child's stdin, the child
// answers each with one JSON Response line on its stdout, in order. The
// child's stderr is its log. A child dies with its parent (SIGKILL as its
// parent-death signal) and exits when its stdin ends.

// Client is the parent's handle on one child process.
type Client struct {
	Name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	dec  *json.Decoder
	mu   sync.Mutex
	done chan struct{}
}

// Spawn starts `bin sockets` as a child, its stderr appended to logPath.
func Spawn(bin, name, logPath string) (*Client, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "sockets")
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sockets: start %s: %w", name, err)
	}
	c := &Client{Name: name, cmd: cmd, in: in, dec: json.NewDecoder(bufio.NewReaderSize(out, 1<<20)), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, nil
}

// PID is the child's process id.
func (c *Client) PID() int { return c.cmd.Process.Pid }

// call sends req and reads the child's answer. Calls from several
// goroutines are served one at a time.
func (c *Client) call(req Request) (resp Response, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return resp, err
	}
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		return resp, fmt.Errorf("sockets %s: %w", c.Name, err)
	}
	if err := c.dec.Decode(&resp); err != nil {
		return resp, fmt.Errorf("sockets %s: read: %w", c.Name, err)
	}
	if resp.Err != "" {
		return resp, fmt.Errorf("sockets %s: %s", c.Name, resp.Err)
	}
	return resp, nil
}

// wait ends the child's stdin, its cue to exit, and waits for it; a child
// that has not exited within 10 s is killed.
func (c *Client) wait() error {
	c.in.Close()
	select {
	case <-c.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("sockets %s did not exit; killed", c.Name)
	}
}

// Serve is the child process: it answers the parent's Requests until
// "close" or the end of in (the parent closed it or died), then closes
// every socket.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	var g *Group
	defer func() {
		if g != nil {
			g.Close()
		}
	}()
	dec := json.NewDecoder(bufio.NewReaderSize(in, 1<<20))
	enc := json.NewEncoder(out)
	for {
		var req Request
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("sockets: read request: %w", err)
		}
		var resp Response
		switch {
		case req.Cmd == "start" && g == nil && req.Job != nil:
			g = NewGroup(*req.Job)
			st := g.Connect(ctx)
			resp.Start = &st
		case req.Cmd == "close":
		case g == nil:
			resp.Err = "no job started (send start with a job first)"
		case req.Cmd == "status":
			st := g.Status()
			resp.Status = &st
		case req.Cmd == "count":
			resp.Count = g.Count(req.Phase)
		case req.Cmd == "report":
			rep := g.ReportTail(req.Phase, req.Sent, req.Tail)
			resp.Report = &rep
		case req.Cmd == "runtime":
			rt := stats.ReadRuntime()
			resp.Runtime = &rt
		default:
			resp.Err = fmt.Sprintf("unknown command %q", req.Cmd)
		}
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("sockets: write answer: %w", err)
		}
		if req.Cmd == "close" {
			return nil
		}
	}
}
