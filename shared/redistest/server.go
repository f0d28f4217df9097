package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/proctest"
)

// Server is a redis-server of the test's own, for tests of what happens
// when Redis goes away: Stop and Start it again on the same port, or Pause
// it (SIGSTOP: connections stay open and the kernel still accepts new
// ones, but nothing answers — the hardest outage to notice) and Resume it.
// It is killed when the test ends.
type Server struct {
	t    testing.TB
	Port int
	// URL is redis://127.0.0.1:Port/0.
	URL  string
	dir  string
	proc *proctest.Process
}

// StartServer runs a redis-server (from PATH) on a free loopback port and
// waits until it answers.
func StartServer(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redistest: redis-server is not on PATH: %v", err)
	}
	s := &Server{t: t, Port: proctest.FreePort(t), dir: t.TempDir()}
	s.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port)
	s.Start()
	return s
}

// Start (re)starts the server on its port and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	s.proc = proctest.Start(s.t, nil, "redis-server", "--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "no", "--loglevel", "warning")
	deadline := time.Now().Add(15 * time.Second)
	for !s.answers() {
		if s.proc.Exited() || time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on port %d did not start: %v\n%s", s.Port, s.proc.Err(), s.proc.Log)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting out a guess
	}
}

// Stop kills the server and waits until it is gone: connections are
// reset and new ones refused.
func (s *Server) Stop() {
	s.proc.Signal(syscall.SIGKILL)
	<-s.proc.Done()
}

// Pid is the server process's id (for reading its CPU time).
func (s *Server) Pid() int { return s.proc.Pid() }

// Pause stops the server process (SIGSTOP) without closing anything.
func (s *Server) Pause() { s.proc.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.proc.Signal(syscall.SIGCONT) }

// answers reports whether the server replies +PONG within a second.
func (s *Server) answers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", proctest.Addr(s.Port))
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}
