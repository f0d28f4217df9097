package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
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

// TestSurvivesRunningOutOfDescriptors runs the edge with 96 descriptors
// and a socket cap above that, so the process really runs out: accepts
// fail with EMFILE. The edge must keep serving the sockets it has, not
// spin the CPU while clients keep knocking, and accept again once
// descriptors free up.
func TestSurvivesRunningOutOfDescriptors(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit not installed")
	}
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_SOCKETS": "1000"}, "prlimit", "--nofile=96:96", "--")
	st.member(7, 1)
	var held []*cable.Conn
	var refused int
	for i := 0; i < 140 && refused < 5; i++ {
		c, err := tryDial(st, e, 1)
		if err != nil {
			refused++
			continue
		}
		require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))
		held = append(held, c)
	}
	require.Equal(t, 5, refused, "the process ran out of descriptors")
	require.Greater(t, len(held), 40)

	// No spinning while clients keep knocking at the full process.
	before := cpuTicks(t, e.proc.Pid())
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if c, err := tryDial(st, e, 1); err == nil {
			c.Close()
		}
		time.Sleep(50 * time.Millisecond) // a client's retry pace
	}
	used := cpuTicks(t, e.proc.Pid()) - before
	require.Less(t, used, 40, "%d ticks of CPU in 2 s: the acceptor spins", used)

	// The sockets it has are served.
	st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: 1})
	for _, c := range held {
		require.Equal(t, int64(1), envelope(t, next(t, c)).Seq)
	}
	// Free some descriptors: it accepts again.
	for _, c := range held[:10] {
		c.Close()
	}
	require.Eventually(t, func() bool {
		c, err := tryDial(st, e, 1)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 100*time.Millisecond)
	require.Positive(t, e.metric("chatterly_edge_accept_errors_total", `kind="fd_exhausted"`))
	require.Equal(t, 200, e.get("/healthz"))
}

// TestDefaultSocketCapStaysUnderTheLimit: with no explicit cap the edge
// admits the open-files limit minus its headroom and refuses the rest with
// a 503 before any descriptor runs out.
func TestDefaultSocketCapStaysUnderTheLimit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit not installed")
	}
	st := newStack(t)
	e := st.start(nil, "prlimit", "--nofile=128:128", "--")
	for i := 0; i < 128-64; i++ { // the headroom is min(500, max(64, limit/10))
		c, err := tryDial(st, e, 1)
		require.NoError(t, err, "socket %d", i)
		t.Cleanup(func() { c.Close() })
	}
	_, err := cable.Dial(context.Background(), cable.Request{Addr: e.Addr, Token: st.token(1, 1)})
	var he *cable.HandshakeError
	require.ErrorAs(t, err, &he)
	require.Equal(t, 503, he.Status)
	require.Zero(t, e.metric("chatterly_edge_accept_errors_total", ""))
	require.Equal(t, float64(1), e.metric("chatterly_edge_handshakes_total", `outcome="at_capacity"`))
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
