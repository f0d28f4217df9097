package conformance

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/stretchr/testify/require"
)

// outageStack is a stack whose Redis is the test's own; hang makes that
// Redis stop answering (SIGSTOP: connections stay open and nothing comes
// back, the hardest outage for a client, which has no error to act on).
func outageStack(t *testing.T) (st *stack, url string, hang func()) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not installed")
	}
	port := freePort(t)
	_, proc := redisProcess(t, port)
	hang = func() { require.NoError(t, proc.Signal(syscall.SIGSTOP)) }
	return newStack(t), fmt.Sprintf("redis://127.0.0.1:%d/0", port), hang
}

// TestRedisDownFailsFast: while Redis does not answer, a new socket is
// refused with "unavailable" (reconnect true) well within 2 s, since the
// denylist fails closed, and a subscribe on a socket already open is
// answered within about a second, never left waiting: the socket is closed
// with "unavailable" (reconnect true), not rejected, since a client never
// retries a rejected subscription and a member would lose the conversation.
func TestRedisDownFailsFast(t *testing.T) {
	t.Parallel()
	st, url, hangRedis := outageStack(t)
	e := st.start(map[string]string{"REDIS_URL": url, "EDGE_REDIS_TIMEOUT": "400ms"})
	open := e.dial(st, 1)
	hangRedis()

	start := time.Now()
	c := e.dialRaw(cable.Request{Token: st.token(2, 2002)})
	m, err := c.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "disconnect", m.Type, string(m.Raw))
	require.Equal(t, "unavailable", m.Reason)
	require.True(t, *m.Reconnect)
	t.Logf("refused %s after the dial began", time.Since(start))
	require.Less(t, time.Since(start), 2*time.Second)

	start = time.Now()
	require.NoError(t, open.Subscribe(convIdent(7)))
	m, err = open.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "disconnect", m.Type, string(m.Raw))
	require.Equal(t, "unavailable", m.Reason)
	require.True(t, *m.Reconnect)
	t.Logf("socket closed %s after the subscribe", time.Since(start))
	require.Less(t, time.Since(start), time.Second+200*time.Millisecond)
}

// TestSIGTERMStopsWhileRedisIsGone: with Redis gone, SIGTERM still stops
// the edge within EDGE_SHUTDOWN_WINDOW plus EDGE_SHUTDOWN_TIMEOUT, though
// presence has a user's offline to write and the stream readers are
// retrying.
func TestSIGTERMStopsWhileRedisIsGone(t *testing.T) {
	t.Parallel()
	st, url, hangRedis := outageStack(t)
	e := st.start(map[string]string{"REDIS_URL": url, "EDGE_SHUTDOWN_WINDOW": "300ms",
		"EDGE_SHUTDOWN_TIMEOUT": "1s", "EDGE_PRESENCE_GRACE": "3s"})
	c := e.dial(st, 1)
	hangRedis()
	start := time.Now()
	e.signal(syscall.SIGTERM)
	m, err := c.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "server_restart", m.Reason, string(m.Raw))
	select {
	case <-e.proc.Done():
		require.NoError(t, e.proc.Err(), "clean exit")
	case <-time.After(6 * time.Second):
		t.Fatal("the edge did not exit within 6 s of SIGTERM")
	}
	// The window and the timeout, and 2 s for a loaded machine (the
	// default timeout alone is 10 s; without deadlines it hung > 10 min).
	t.Logf("exited %s after SIGTERM", time.Since(start))
	require.Less(t, time.Since(start), 300*time.Millisecond+time.Second+2*time.Second)
}
