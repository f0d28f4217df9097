package conformance

import (
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

type presenceUser struct {
	ID           id.ID   `json:"id"`
	Online       bool    `json:"online"`
	LastActiveAt *string `json:"last_active_at"`
}

// presenceNext reads the next presence message for the watcher.
func presenceNext(t *testing.T, c *cable.Conn, timeout time.Duration) []presenceUser {
	t.Helper()
	m, err := c.Next(timeout, true)
	require.NoError(t, err)
	require.Equal(t, cable.Identifier("PresenceChannel"), m.Identifier, string(m.Raw))
	env := envelope(t, m)
	require.Equal(t, event.Presence, env.Type)
	var d struct{ Users []presenceUser }
	require.NoError(t, json.Unmarshal(env.Data, &d))
	return d.Users
}

func watch(t *testing.T, c *cable.Conn, users string) {
	t.Helper()
	require.Equal(t, "confirm_subscription", subscribe(t, c, cable.Identifier("PresenceChannel")))
	require.NoError(t, c.Perform(cable.Identifier("PresenceChannel"), `{"action":"watch","user_ids":`+users+`}`))
}

// TestPresenceSnapshotThenChanges: a watcher gets a snapshot of the users
// it watches, then each online and offline change; a reload within the
// grace period changes nothing; users it does not watch are not sent.
func TestPresenceSnapshotThenChanges(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_PRESENCE_GRACE": "1s"})
	w := e.dial(st, 100)
	watch(t, w, `["1","2"]`)
	snap := presenceNext(t, w, 5*time.Second)
	require.Len(t, snap, 2)
	for _, u := range snap {
		require.False(t, u.Online)
		require.Nil(t, u.LastActiveAt, "never seen")
	}

	alice := e.dial(st, 1)
	u := presenceNext(t, w, 5*time.Second)
	require.Equal(t, []presenceUser{{ID: 1, Online: true, LastActiveAt: u[0].LastActiveAt}}, u)
	_ = e.dial(st, 3) // not watched: nothing arrives for user 3

	// A reload: close and reopen within the grace period.
	alice.Close()
	alice = e.dial(st, 1)
	quiet(t, w, 1500*time.Millisecond)

	alice.Close()
	left := time.Now()
	u = presenceNext(t, w, 5*time.Second)
	require.Len(t, u, 1)
	require.Equal(t, id.ID(1), u[0].ID)
	require.False(t, u[0].Online)
	require.NotNil(t, u[0].LastActiveAt)
	require.GreaterOrEqual(t, time.Since(left), 900*time.Millisecond, "offline only after the grace period")

	// A new snapshot now knows when alice was last seen.
	require.NoError(t, w.Perform(cable.Identifier("PresenceChannel"), `{"action":"watch","user_ids":["1"]}`))
	snap = presenceNext(t, w, 5*time.Second)
	require.Len(t, snap, 1)
	require.False(t, snap[0].Online)
	require.NotNil(t, snap[0].LastActiveAt)
}

// TestPresenceOfADeadNode: an edge killed without goodbye; another edge
// reaps it and its users go offline within the node TTL (60 s at most in
// production, where EDGE_NODE_TTL is 40 s).
func TestPresenceOfADeadNode(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	env := map[string]string{"EDGE_NODE_TTL": "1s"}
	dying, survivor := st.start(env), st.start(env)
	w := survivor.dial(st, 100)
	watch(t, w, `["1"]`)
	require.False(t, presenceNext(t, w, 5*time.Second)[0].Online)
	dying.dial(st, 1)
	require.True(t, presenceNext(t, w, 5*time.Second)[0].Online)
	killed := time.Now()
	dying.signal(syscall.SIGKILL)
	u := presenceNext(t, w, 10*time.Second)
	require.False(t, u[0].Online)
	require.Less(t, time.Since(killed), 3*time.Second)
}

func TestWatchLimit(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(map[string]string{"EDGE_MAX_WATCH": "3"})
	w := e.dial(st, 100)
	watch(t, w, `["1","2","3","4"]`)
	quiet(t, w, 300*time.Millisecond)
	require.Equal(t, float64(1), e.metric("chatterly_edge_actions_dropped_total", `reason="bad_watch"`))
}
