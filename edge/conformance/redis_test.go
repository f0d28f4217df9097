package conformance

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// privateRedis runs a redis-server of the test's own on port, which the
// test may stop and start again.
func privateRedis(t *testing.T, port int) func() {
	t.Helper()
	stop, _ := redisProcess(t, port)
	return stop
}

// redisProcess is privateRedis, also returning the server's process (to
// pause it: SIGSTOP makes a Redis that accepts connections and answers
// nothing, like a hung or unreachable host).
func redisProcess(t *testing.T, port int) (func(), *os.Process) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop, cmd.Process
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRedisOutage: Redis goes away; the edge keeps its sockets (they keep
// getting pings), reports not ready, logs the outage's start and end (not
// every failed call), and resumes consuming when Redis comes back.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: apt-get install -y redis-server")
	}
	port := freePort(t)
	stop := privateRedis(t, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	st := newStack(t)
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{fmt.Sprintf("127.0.0.1:%d", port)}})
	require.NoError(t, err)
	defer rdb.Close()
	st.rdb = rdb
	st.app = newAppender(rdb, st)
	e := st.start(map[string]string{"REDIS_URL": url})
	st.member(7, 1)
	c := e.dial(st, 1)
	require.Equal(t, "confirm_subscription", subscribe(t, c, convIdent(7)))

	stop()
	e.proc.WaitLog(t, "dependency unavailable", 10*time.Second)
	require.Eventually(t, func() bool { return e.get("/readyz") == 503 }, 10*time.Second, 50*time.Millisecond)
	for i := 0; i < 2; i++ {
		m, err := c.Next(5*time.Second, false)
		require.NoError(t, err)
		require.Equal(t, "ping", m.Type, "the socket is kept")
	}

	privateRedis(t, port)
	require.Eventually(t, func() bool { return e.get("/readyz") == 200 }, 15*time.Second, 50*time.Millisecond)
	// The outage is logged once when it starts and once when it ends,
	// with its duration, however many calls failed in between.
	back := e.proc.WaitLog(t, "dependency available again", 5*time.Second)
	require.Equal(t, "redis", back["dependency"])
	require.Greater(t, back["outage_seconds"], 0.5)
	require.Greater(t, back["failed_calls"], 1.0)
	require.Equal(t, 1, strings.Count(e.proc.Log.String(), `"msg":"dependency unavailable"`))
	require.Eventually(t, func() bool {
		_, err := st.app.Append(context.Background(), rkey.ConversationTopic(7), mustEncode(t, event.Envelope{
			Type: event.MessageCreated, ConversationID: 7, Seq: 1, At: time.Now(), Data: []byte(`{}`)}))
		return err == nil
	}, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, int64(1), envelope(t, next(t, c)).Seq)
}
