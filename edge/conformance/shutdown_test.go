package conformance

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

// TestSIGTERMSendsEverySocketItsDisconnect: a graceful stop tells every
// socket server_restart with reconnect true, spread over the window, and
// the process exits cleanly.
func TestSIGTERMSendsEverySocketItsDisconnect(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_SHUTDOWN_WINDOW": "1s"})
	st.member(7, 1)
	conns := make([]*cable.Conn, 60)
	for i := range conns {
		conns[i] = e.dial(st, id.ID(1+i%3))
		if i%2 == 0 {
			require.Equal(t, "confirm_subscription", subscribe(t, conns[i], cable.Identifier("CallChannel")))
		}
	}
	start := time.Now()
	e.signal(syscall.SIGTERM)
	var wg sync.WaitGroup
	got := make([]time.Duration, len(conns))
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c *cable.Conn) {
			defer wg.Done()
			m, err := c.Next(10*time.Second, true)
			if err != nil || m.Type != "disconnect" || m.Reason != "server_restart" || m.Reconnect == nil || !*m.Reconnect {
				t.Errorf("socket %d: %s %v", i, m.Raw, err)
				return
			}
			got[i] = time.Since(start)
		}(i, c)
	}
	wg.Wait()
	select {
	case <-e.proc.Done():
		require.NoError(t, e.proc.Err(), "clean exit")
	case <-time.After(10 * time.Second):
		t.Fatal("the edge did not exit")
	}
	// Spread over the window, not all at once.
	var first, last time.Duration = time.Hour, 0
	for _, d := range got {
		first, last = min(first, d), max(last, d)
	}
	require.Greater(t, last-first, 300*time.Millisecond)
	require.Less(t, last, 3*time.Second)
}
