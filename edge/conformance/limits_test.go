package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// cpuTicks is the process's user+system time in clock ticks (1/100 s).
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var u, s int
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return u + s
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	return len(ents)
}

// tryDial connects and waits for welcome; it reports failure instead of
// failing the test.
func tryDial(st *stack, e *edge, user id.ID) (*cable.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := cable.Dial(ctx, cable.Request{Addr: e.Addr, Token: st.token(user, user+1000)})
	if err != nil {
		return nil, err
	}
	m, err := c.Next(3*time.Second, true)
	if err != nil || m.Type != "welcome" {
		c.Close()
		return nil, fmt.Errorf("no welcome: %s %v", m.Raw, err)
	}
	return c, nil
}

// TestAtTheDescriptorLimitItRefusesAndKeepsServing runs the edge with 128
// descriptors and knocks with far more connections than fit. The edge
// admits the limit minus its headroom, refuses the rest with 503 before any
// descriptor runs out (gnet would stop its whole engine on EMFILE), keeps
// serving the sockets it has, does not spin the CPU while clients keep
// knocking, and admits again once sockets close.
func TestAtTheDescriptorLimitItRefusesAndKeepsServing(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit is not installed: apt-get install -y util-linux")
	}
	st := newStack(t)
	e := st.start(nil, "prlimit", "--nofile=128:128", "--")
	st.member(7, 1)
	var held []*cable.Conn
	refused := 0
	for i := 0; i < 100; i++ {
		c, err := tryDial(st, e, 1)
		if err != nil {
			var he *cable.HandshakeError
			require.ErrorAs(t, err, &he)
			require.Equal(t, 503, he.Status)
			refused++
			continue
		}
		require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))
		held = append(held, c)
	}
	require.Len(t, held, 128-64, "the limit minus the headroom (min(500, max(64, limit/10)))")
	require.Equal(t, 100-len(held), refused)
	require.Less(t, openFDs(t, e.proc.Pid()), 128, "the process never reaches its limit")

	// No spinning while clients keep knocking at the full process.
	before := cpuTicks(t, e.proc.Pid())
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if c, err := tryDial(st, e, 1); err == nil {
			c.Close()
			t.Fatal("admitted past the cap")
		}
		time.Sleep(20 * time.Millisecond) // a client's retry pace
	}
	used := cpuTicks(t, e.proc.Pid()) - before
	require.Less(t, used, 40, "%d ticks of CPU in 2 s", used)

	// The sockets it has are served, and its admin endpoints answer.
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	for _, c := range held {
		require.Equal(t, int64(1), envelope(t, next(t, c)).Seq)
	}
	require.Equal(t, 200, e.get("/healthz"))
	require.Positive(t, e.metric("chatterly_edge_handshakes_total", `outcome="at_capacity"`))

	// Sockets close: it admits again.
	for _, c := range held[:10] {
		c.Close()
	}
	require.Eventually(t, func() bool {
		c, err := tryDial(st, e, 1)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
}

// TestACapThatCouldRunOutIsRefused: a socket cap the open-files limit
// cannot hold is a configuration error, not a latent crash.
func TestACapThatCouldRunOutIsRefused(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit is not installed: apt-get install -y util-linux")
	}
	st := newStack(t)
	cmd := exec.Command("prlimit", "--nofile=128:128", "--", proctest.Build(t, edgePkg))
	cmd.Env = []string{"REDIS_URL=" + redistest.URL(t), "JWT_KEY_DIR=" + st.keyDir, "EDGE_MAX_SOCKETS=1000",
		"EDGE_ADDR=127.0.0.1:0", "EDGE_ADMIN_ADDR=127.0.0.1:0"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.ExitCode())
	require.Contains(t, string(out), "EDGE_MAX_SOCKETS")
}

func TestPerUserSocketCapAndPerAddressRate(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_SOCKETS_PER_USER": "2"})
	e.dial(st, 1)
	e.dial(st, 1)
	c := e.dialRaw(cable.Request{Token: st.token(1, 1001)})
	m := next(t, c)
	require.Equal(t, "disconnect", m.Type)
	require.Equal(t, "remote", m.Reason)
	require.True(t, *m.Reconnect)
	e.dial(st, 2) // another user is not affected

	r := st.start(map[string]string{"EDGE_HANDSHAKE_RATE": "1", "EDGE_HANDSHAKE_BURST": "3"})
	for i := 0; i < 3; i++ {
		r.dial(st, 1)
	}
	_, err := cable.Dial(context.Background(), cable.Request{Addr: r.Addr, Token: st.token(1, 1)})
	var he *cable.HandshakeError
	require.ErrorAs(t, err, &he)
	require.Equal(t, 429, he.Status)
}

// dialStatus dials with extra header lines and returns the refusal's HTTP
// status, or 0 once welcomed (the connection then stays open until the
// test ends).
func dialStatus(t *testing.T, st *stack, e *edge, user id.ID, header ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cable.Dial(ctx, cable.Request{Addr: e.Addr, Token: st.token(user, user+1000), Header: header})
	var he *cable.HandshakeError
	if errors.As(err, &he) {
		return he.Status
	}
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	m := next(t, c)
	require.Equal(t, "welcome", m.Type, string(m.Raw))
	return 0
}

// TestSocketCaps: one address holds at most EDGE_MAX_SOCKETS_PER_ADDR
// sockets (429 past it) and gets a place back when one closes; the
// defaults are well below the node's cap.
func TestSocketCaps(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_SOCKETS_PER_ADDR": "3"})
	first := e.dial(st, 1)
	e.dial(st, 2)
	e.dial(st, 3)
	require.Equal(t, 429, dialStatus(t, st, e, 4))
	require.Positive(t, e.metric("chatterly_edge_handshakes_total", `outcome="addr_cap"`))
	first.Close()
	require.Eventually(t, func() bool { return dialStatus(t, st, e, 4) == 0 }, 5*time.Second, 20*time.Millisecond)
}

// TestForwardedForOnlyFromTrustedProxies: X-Forwarded-For names the client
// for the per-address cap only when the connection comes from
// TRUSTED_PROXIES, and then only the address the trusted proxy appended
// (rightmost); from anyone else it is ignored.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	xff := func(a string) string { return "X-Forwarded-For: " + a }

	untrusted := st.start(map[string]string{"EDGE_MAX_SOCKETS_PER_ADDR": "2"})
	require.Zero(t, dialStatus(t, st, untrusted, 1, xff("198.51.100.1")))
	require.Zero(t, dialStatus(t, st, untrusted, 2, xff("198.51.100.2")))
	require.Equal(t, 429, dialStatus(t, st, untrusted, 3, xff("198.51.100.3")), "the header is not believed")

	proxied := st.start(map[string]string{"EDGE_MAX_SOCKETS_PER_ADDR": "2", "TRUSTED_PROXIES": "127.0.0.0/8"})
	require.Zero(t, dialStatus(t, st, proxied, 1, xff("198.51.100.1")))
	require.Zero(t, dialStatus(t, st, proxied, 2, xff("203.0.113.9, 198.51.100.1")), "what the client wrote is not believed")
	require.Equal(t, 429, dialStatus(t, st, proxied, 3, xff("198.51.100.1")))
	require.Zero(t, dialStatus(t, st, proxied, 4, xff("198.51.100.2")))
	require.Zero(t, dialStatus(t, st, proxied, 5), "the proxy itself, without the header")
	require.Positive(t, proxied.metric("chatterly_edge_handshakes_total", `outcome="addr_cap"`))
}
