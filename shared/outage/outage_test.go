package outage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// logLines is a JSON log that tests can read back as it is written.
type logLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logLines) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if s == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m))
		out = append(out, m)
	}
	return out
}

func newTracker(name string) (*Tracker, *logLines) {
	l := &logLines{}
	return New(slog.New(slog.NewJSONHandler(l, nil)), name), l
}

func client(t *testing.T, url string) rueidis.Client {
	opt, err := rueidis.ParseURL(url)
	require.NoError(t, err)
	c, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// An outage is two lines however many calls fail in it: one when it
// starts, one when it ends with its duration and failed calls.
func TestTrackerLogsOnceAtStartAndOnceAtEnd(t *testing.T) {
	t.Parallel()
	tr, log := newTracker("postgres")
	clock := time.Unix(1000, 0)
	tr.now = func() time.Time { return clock }
	tr.OK()
	require.Empty(t, log.lines(t), "a healthy dependency logs nothing")
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); tr.Fail(errors.New("connection refused")) }()
	}
	wg.Wait()
	require.True(t, tr.Down())
	lines := log.lines(t)
	require.Len(t, lines, 1)
	require.Equal(t, "dependency unavailable", lines[0]["msg"])
	require.Equal(t, "WARN", lines[0]["level"])
	require.Equal(t, "postgres", lines[0]["dependency"])
	require.Equal(t, "connection refused", lines[0]["err"])

	clock = clock.Add(2500 * time.Millisecond)
	tr.OK()
	tr.OK()
	require.False(t, tr.Down())
	lines = log.lines(t)
	require.Len(t, lines, 2)
	require.Equal(t, "dependency available again", lines[1]["msg"])
	require.Equal(t, 2.5, lines[1]["outage_seconds"])
	require.Equal(t, 100.0, lines[1]["failed_calls"])

	tr.Fail(errors.New("timeout"))
	require.Len(t, log.lines(t), 3, "a new outage is logged again")
}

func TestRedisFailure(t *testing.T) {
	t.Parallel()
	require.False(t, RedisFailure(nil))
	require.False(t, RedisFailure(context.Canceled))
	require.False(t, RedisFailure(rueidis.ErrClosing))
	require.True(t, RedisFailure(context.DeadlineExceeded))
	require.True(t, RedisFailure(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")))
}

// A real Redis stopped and started again: the tracked client logs the
// outage once, then its end, while untracked answers (nil replies, error
// replies) count as Redis answering.
func TestTrackRedisThroughAnOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	raw := client(t, srv.URL)
	tr, log := newTracker("redis")
	c := TrackRedis(raw, tr, 0)
	ctx := context.Background()

	require.True(t, rueidis.IsRedisNil(c.Do(ctx, c.B().Get().Key("absent").Build()).Error()))
	require.NoError(t, c.Do(ctx, c.B().Set().Key("k").Value("x").Build()).Error())
	var re *rueidis.RedisError
	require.ErrorAs(t, c.Do(ctx, c.B().Incr().Key("k").Build()).Error(), &re, "an error reply")
	require.Empty(t, log.lines(t), "answers, error replies included, are not an outage")

	srv.Stop()
	for i := 0; i < 3; i++ {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		require.Error(t, c.Do(cctx, c.B().Get().Key("k").Build()).Error())
		require.Error(t, c.DoMulti(cctx, c.B().Get().Key("k").Build(), c.B().Get().Key("j").Build())[0].Error())
		cancel()
	}
	lines := log.lines(t)
	require.Len(t, lines, 1, "one line for the whole outage")
	require.Equal(t, "dependency unavailable", lines[0]["msg"])
	require.Equal(t, "redis", lines[0]["dependency"])

	srv.Start()
	require.Eventually(t, func() bool {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		return c.Do(cctx, c.B().Ping().Build()).Error() == nil
	}, 10*time.Second, 20*time.Millisecond)
	lines = log.lines(t)
	require.Len(t, lines, 2)
	require.Equal(t, "dependency available again", lines[1]["msg"])
	require.GreaterOrEqual(t, lines[1]["failed_calls"], 6.0)
	require.Greater(t, lines[1]["outage_seconds"], 0.0)
}

// A Redis that accepts and never answers (a paused process): a call
// without a deadline of its own gives up after the call timeout, and the
// outage is seen.
func TestTrackRedisBoundsCallsWithoutDeadline(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	raw := client(t, srv.URL)
	tr, _ := newTracker("redis")
	c := TrackRedis(raw, tr, 300*time.Millisecond)
	ctx := context.Background()
	require.NoError(t, c.Do(ctx, c.B().Ping().Build()).Error())

	srv.Pause()
	t.Cleanup(srv.Resume)
	start := time.Now()
	err := c.Do(ctx, c.B().Get().Key("k").Build()).Error()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	require.True(t, tr.Down())

}
