package cable

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Pool holds many client connections on a few gnet event loops: no
// goroutine and no buffer per idle connection, one read per readiness,
// and a caller's callback per received message. Handshakes are done
// blocking (Dial), then the connection moves into the loops.
type Pool struct {
	gnet.BuiltinEventEngine
	cli *gnet.Client
	cfg PoolConfig

	// Counters of what the connections received.
	Pings, Messages, Confirms, Rejects, Disconnects, Closed atomic.Int64
}

// PoolConfig configures a Pool.
type PoolConfig struct {
	// Loops is the number of event loops (0: one per CPU).
	Loops int
	// OnMessage is called on an event loop for every message that is not
	// a ping, a subscription reply or a disconnect, with the time the read
	// that carried it returned. It must not block; payload is valid only
	// during the call.
	OnMessage func(recv time.Time, payload []byte)
}

// PoolConn is one connection of a Pool.
type PoolConn struct {
	gc      gnet.Conn
	pending []byte
}

// Close closes the connection.
func (c *PoolConn) Close() error { return c.gc.Close() }

// NewPool starts a pool's event loops.
func NewPool(cfg PoolConfig) (*Pool, error) {
	p := &Pool{cfg: cfg}
	opts := []gnet.Option{gnet.WithReadBufferCap(64 << 10), gnet.WithLogger(quietLogger{})}
	if cfg.Loops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(cfg.Loops))
	} else {
		opts = append(opts, gnet.WithMulticore(true))
	}
	cli, err := gnet.NewClient(p, opts...)
	if err != nil {
		return nil, err
	}
	if err := cli.Start(); err != nil {
		return nil, err
	}
	p.cli = cli
	return p, nil
}

// Close closes every connection and stops the loops.
func (p *Pool) Close() error { return p.cli.Stop() }

// ErrNoWelcome is returned by Dial when the server answered the upgrade
// with something other than welcome (a disconnect, for a refused token).
var ErrNoWelcome = errors.New("cable: no welcome")

// Dial connects, completes the handshake, waits for welcome, sends the
// subscribe commands, and hands the connection to the pool's loops.
// Replies arrive there and are counted in Confirms and Rejects.
func (p *Pool) Dial(ctx context.Context, r Request, subscribe ...string) (*PoolConn, error) {
	c, err := Dial(ctx, r)
	if err != nil {
		return nil, err
	}
	nc := c.nc
	m, err := c.Next(time.Until(deadlineOr(ctx, 10*time.Second)), true)
	if err != nil || m.Type != "welcome" {
		nc.Close()
		if err == nil {
			err = ErrNoWelcome
		}
		return nil, err
	}
	var cmds []byte
	for _, ident := range subscribe {
		cmds = AppendClientFrame(cmds, OpText, Command("subscribe", ident, ""))
	}
	if len(cmds) > 0 {
		if _, err := nc.Write(cmds); err != nil {
			nc.Close()
			return nil, err
		}
	}
	pc := &PoolConn{}
	nc, pc.pending = c.Detach()
	gc, err := p.cli.EnrollContext(nc, pc) // duplicates the descriptor and closes nc
	if err != nil {
		return nil, err
	}
	pc.gc = gc
	return pc, nil
}

func deadlineOr(ctx context.Context, d time.Duration) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(d)
}

var (
	pingPrefix       = []byte(`{"type":"ping"`)
	disconnectPrefix = []byte(`{"type":"disconnect"`)
	confirmSuffix    = []byte(`"type":"confirm_subscription"}`)
	rejectSuffix     = []byte(`"type":"reject_subscription"}`)
)

// OnTraffic parses every whole frame that arrived.
func (p *Pool) OnTraffic(c gnet.Conn) gnet.Action {
	pc, _ := c.Context().(*PoolConn)
	if pc == nil {
		return gnet.Close
	}
	now := time.Now()
	in, _ := c.Next(-1)
	buf := in
	if len(pc.pending) > 0 {
		pc.pending = append(pc.pending, in...)
		buf = pc.pending
	}
	off := 0
	for {
		op, _, payload, n, err := ParseServerFrame(buf[off:])
		if err != nil {
			return gnet.Close
		}
		if n == 0 {
			break
		}
		off += n
		switch op {
		case OpText:
			p.classify(now, payload)
		case OpClose:
			return gnet.Close
		}
	}
	rest := buf[off:]
	switch {
	case len(rest) == 0:
		pc.pending = nil
	case len(pc.pending) > 0:
		pc.pending = append(pc.pending[:0], rest...)
	default:
		pc.pending = append([]byte(nil), rest...)
	}
	return gnet.None
}

func (p *Pool) classify(now time.Time, payload []byte) {
	switch {
	case bytes.HasPrefix(payload, pingPrefix):
		p.Pings.Add(1)
	case bytes.HasSuffix(payload, confirmSuffix):
		p.Confirms.Add(1)
	case bytes.HasSuffix(payload, rejectSuffix):
		p.Rejects.Add(1)
	case bytes.HasPrefix(payload, disconnectPrefix):
		p.Disconnects.Add(1)
	default:
		p.Messages.Add(1)
		if p.cfg.OnMessage != nil {
			p.cfg.OnMessage(now, payload)
		}
	}
}

// OnOpen processes what the handshake reader had already read past
// welcome.
func (p *Pool) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if pc, _ := c.Context().(*PoolConn); pc != nil && len(pc.pending) > 0 {
		return nil, p.OnTraffic(c)
	}
	return nil, gnet.None
}

// OnClose counts closed connections.
func (p *Pool) OnClose(gnet.Conn, error) gnet.Action {
	p.Closed.Add(1)
	return gnet.None
}

// quietLogger keeps gnet's informational lines off stdout, which the load
// generator's workers use to report; errors go to stderr.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+f+"\n", a...)
}
func (quietLogger) Errorf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+f+"\n", a...)
}
func (quietLogger) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+f+"\n", a...)
}
