// Package tcpproxy is a loopback TCP proxy that tests put between a
// process and a real Postgres or Redis, to take the dependency away without
// touching the server: Pause it (connections stay open and new ones are
// accepted, but nothing gets through either way — a server that does not
// answer) and Resume it, or take it Down (every connection reset, new ones
// refused) and Up again on the same port. Everything behind it is real;
// only the path to it fails.
package tcpproxy

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards one loopback port to a target address.
type Proxy struct {
	t      testing.TB
	addr   string
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

// New starts a proxy to target (host:port), closed when the test ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcpproxy: %v", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.Resume(); p.Down() })
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// URL returns rawURL (a postgres:// or redis:// URL) with its host
// replaced by the proxy's, for a client to connect through it.
func (p *Proxy) URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		p.t.Fatalf("tcpproxy: %v", err)
	}
	u.Host = p.addr
	return u.String()
}

// Through starts a proxy to the host of rawURL and returns it with rawURL
// pointed through it.
func Through(t testing.TB, rawURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("tcpproxy: %v", err)
	}
	p := New(t, u.Host)
	return p, p.URL(rawURL)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

func (p *Proxy) handle(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, s) {
		return
	}
	go p.pipe(s, c)
	p.pipe(c, s)
}

// track registers both ends, or closes them when the proxy is down.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst, holding each chunk while the proxy is paused.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a reset: close both ends
		}
	}
}

// Pause holds every byte in both directions until Resume.
func (p *Proxy) Pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// Resume lets held and new bytes through again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	p.paused = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Down resets every connection and refuses new ones until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, as a crashed server's host sends
		}
		c.Close()
		delete(p.conns, c)
	}
}

// Up listens again on the proxy's port.
func (p *Proxy) Up() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("tcpproxy: up again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
