package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// TestSlowReaderIsCutOffOthersKeepUp: one socket never reads (and has a
// tiny receive buffer); 100 others read everything. Besides the shared
// conversation the slow one is in a second one that gets 32 KB events, so
// its backlog outgrows what the kernel absorbs. It is disconnected once its
// unsent bytes pass the bound, and the 100 receive
// every event, in order, each within seconds of its publication
// (generous: the readers run under the race detector on shared cores).
func TestSlowReaderIsCutOffOthersKeepUp(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_OUTBOUND_BYTES": "16384"})
	st.member(7)
	users := make([]string, 0, 102)
	for u := 1; u <= 101; u++ {
		users = append(users, fmt.Sprint(u))
	}
	require.NoError(t, st.rdb.Do(context.Background(), st.rdb.B().Sadd().Key(st.keys.Members(7)).Member(users...).Build()).Error())

	// The slow reader: a 4 KB receive buffer, set before connecting.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	nc, err := d.Dial("tcp", e.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	slow, err := cable.Upgrade(context.Background(), nc, cable.Request{Addr: e.Addr, Token: st.token(101, 1101)})
	require.NoError(t, err)
	require.Equal(t, "welcome", next(t, slow).Type)
	require.Equal(t, "confirm_subscription", subscribe(t, slow, convIdent(7)))
	st.member(8, 101)
	require.Equal(t, "confirm_subscription", subscribe(t, slow, convIdent(8)))

	fast := make([]*cable.Conn, 100)
	for i := range fast {
		fast[i] = e.dial(st, id.ID(i+1))
		require.Equal(t, "confirm_subscription", subscribe(t, fast[i], convIdent(7)))
	}

	const events = 150
	pad := strings.Repeat("x", 1000)
	flood, _ := json.Marshal(map[string]string{"pad": strings.Repeat("y", 32<<10)})
	type result struct {
		maxLag time.Duration
		err    error
	}
	results := make([]result, len(fast))
	var wg sync.WaitGroup
	for i, c := range fast {
		wg.Add(1)
		go func(i int, c *cable.Conn) {
			defer wg.Done()
			for want := int64(1); want <= events; want++ {
				m, err := c.Next(10*time.Second, true)
				if err != nil {
					results[i].err = fmt.Errorf("event %d: %w", want, err)
					return
				}
				var env struct {
					Seq  int64
					Data struct{ Sent int64 }
				}
				if err := json.Unmarshal(m.Message, &env); err != nil || env.Seq != want {
					results[i].err = fmt.Errorf("got seq %d, want %d (%v)", env.Seq, want, err)
					return
				}
				results[i].maxLag = max(results[i].maxLag, time.Since(time.Unix(0, env.Data.Sent)))
			}
		}(i, c)
	}
	for seq := int64(1); seq <= events; seq++ {
		data, _ := json.Marshal(map[string]any{"sent": time.Now().UnixNano(), "pad": pad})
		st.publish(rkey.ConversationTopic(7), event.Envelope{Type: event.MessageCreated, ConversationID: 7, Seq: seq, Data: data})
		st.publish(rkey.ConversationTopic(8), event.Envelope{Type: event.MessageCreated, ConversationID: 8, Seq: seq, Data: flood})
		time.Sleep(10 * time.Millisecond) // pacing: 100 events/s, 10 MB/s over the 100 readers
	}
	wg.Wait()
	var worst time.Duration
	for i, r := range results {
		require.NoError(t, r.err, "fast socket %d", i)
		worst = max(worst, r.maxLag)
	}
	require.Less(t, worst, 3*time.Second, "the fast sockets were held back (a blocked edge would stall them for good)")
	require.Equal(t, float64(1), e.metric("chatterly_edge_disconnects_total", `reason="too_slow"`))
	// The slow socket was closed by the edge: reading drains what the
	// kernel held, then ends.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := slow.Next(time.Until(deadline), true)
		if err != nil {
			require.ErrorIs(t, err, cable.ErrClosed)
			break
		}
	}
}
