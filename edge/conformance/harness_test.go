package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

const edgePkg = "github.com/chatterly/chatterly/edge/cmd/chatterly-edge"

func TestMain(m *testing.M) { proctest.Main(m) }

// stack is what one test runs on: a Redis key prefix, a signing key and
// the api's side of Redis (member sets, streams, denylist), done by hand.
type stack struct {
	t      *testing.T
	rdb    rueidis.Client
	keys   rkey.Space
	keyDir string
	issuer *token.Issuer
	app    *event.Appender
}

func newStack(t *testing.T) *stack {
	t.Helper()
	rdb, keys := redistest.Client(t)
	dir := t.TempDir()
	require.NoError(t, token.GenerateKey(dir))
	priv, err := token.LoadSigningKey(dir, false)
	require.NoError(t, err)
	iss, err := token.NewIssuer(priv, 15*time.Minute)
	require.NoError(t, err)
	return &stack{t: t, rdb: rdb, keys: keys, keyDir: dir, issuer: iss, app: event.NewAppender(rdb, keys, 100_000)}
}

// edge is a running edge process.
type edge struct {
	t     *testing.T
	proc  *proctest.Process
	Addr  string
	Admin string
}

// start runs the edge with env over the defaults; wrap, when set, prefixes
// the command (e.g. prlimit).
func (st *stack) start(env map[string]string, wrap ...string) *edge {
	t := st.t
	t.Helper()
	vars := map[string]string{
		"REDIS_URL":              redistest.URL(t),
		"REDIS_KEY_PREFIX":       st.keys.Prefix,
		"STREAM_SHARDS":          fmt.Sprint(st.keys.Shards),
		"JWT_KEY_DIR":            st.keyDir,
		"EDGE_ADDR":              "127.0.0.1:0",
		"EDGE_ADMIN_ADDR":        "127.0.0.1:0",
		"EDGE_SHUTDOWN_WINDOW":   "300ms",
		"EDGE_PRESENCE_GRACE":    "300ms",
		"EDGE_EVENT_LOOPS":       "2",
		"EDGE_WORKERS":           "4",
		"EDGE_HANDSHAKE_TIMEOUT": "10s",
		// Every test socket comes from 127.0.0.1, as few users: the
		// per-user and per-address caps are raised like any load
		// generator raises them (TestSocketCaps tests them).
		"EDGE_MAX_SOCKETS_PER_USER": "100000",
		"EDGE_MAX_SOCKETS_PER_ADDR": "100000",
		"LOG_LEVEL":                 "info",
		"GOMAXPROCS":                "2",
	}
	for k, v := range env {
		vars[k] = v
	}
	argv := append(append([]string(nil), wrap...), proctest.Build(t, edgePkg))
	p := proctest.Start(t, vars, argv...)
	line := p.WaitLog(t, "edge listening", 15*time.Second)
	e := &edge{t: t, proc: p, Addr: line["addr"].(string), Admin: line["admin_addr"].(string)}
	// Ready means the stream consumer is running: events seeded from now on
	// are delivered.
	require.Eventually(t, func() bool { return e.get("/readyz") == 200 }, 10*time.Second, 20*time.Millisecond)
	return e
}

func (e *edge) signal(sig syscall.Signal) { e.proc.Signal(sig) }

// get returns the status of an admin endpoint (0 when unreachable).
func (e *edge) get(path string) int { return proctest.Status("http://" + e.Admin + path) }

// metricsText is the edge's /metrics page.
func (e *edge) metricsText() string {
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get("http://" + e.Admin + "/metrics")
	if err != nil {
		return ""
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// metric returns the sum of a metric's samples whose label text contains
// match.
func (e *edge) metric(name, match string) float64 {
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get("http://" + e.Admin + "/metrics")
	if err != nil {
		return -1
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		var v float64
		fields := strings.Fields(line)
		fmt.Sscan(fields[len(fields)-1], &v)
		sum += v
	}
	return sum
}

func (st *stack) token(user, sid id.ID) string {
	tok, _, err := st.issuer.Issue(user, sid)
	require.NoError(st.t, err)
	return tok
}

// dial connects as user (session = user + 1000) and waits for welcome.
func (e *edge) dial(st *stack, user id.ID) *cable.Conn {
	return e.dialSession(st, user, user+1000)
}

func (e *edge) dialSession(st *stack, user, sid id.ID) *cable.Conn {
	t := e.t
	t.Helper()
	c := e.dialRaw(cable.Request{Token: st.token(user, sid)})
	m, err := c.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "welcome", m.Type, string(m.Raw))
	return c
}

func (e *edge) dialRaw(r cable.Request) *cable.Conn {
	t := e.t
	t.Helper()
	r.Addr = e.Addr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := cable.Dial(ctx, r)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// member seeds a conversation's member set as the api keeps it.
func (st *stack) member(conv id.ID, users ...id.ID) {
	m := []string{"0"}
	for _, u := range users {
		m = append(m, u.String())
	}
	require.NoError(st.t, st.rdb.Do(context.Background(), st.rdb.B().Sadd().Key(st.keys.Members(conv)).Member(m...).Build()).Error())
}

// publish appends an event the way the api does.
func (st *stack) publish(topic string, env event.Envelope) {
	if env.At.IsZero() {
		env.At = time.Now()
	}
	if env.Data == nil {
		env.Data = json.RawMessage(`{}`)
	}
	_, err := st.app.AppendEvent(context.Background(), topic, env)
	require.NoError(st.t, err)
}

func convIdent(conv id.ID) string {
	return cable.Identifier("ConversationChannel", "id", conv.String())
}

// subscribe subscribes and waits for the reply, returning its type.
func subscribe(t *testing.T, c *cable.Conn, ident string) string {
	t.Helper()
	require.NoError(t, c.Subscribe(ident))
	m, err := c.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, ident, m.Identifier, string(m.Raw))
	return m.Type
}

// next returns the next non-ping message.
func next(t *testing.T, c *cable.Conn) cable.Message {
	t.Helper()
	m, err := c.Next(5*time.Second, true)
	require.NoError(t, err)
	return m
}

// quiet asserts nothing but pings arrives for d.
func quiet(t *testing.T, c *cable.Conn, d time.Duration) {
	t.Helper()
	m, err := c.Next(d, true)
	if err == nil {
		t.Fatalf("unexpected message %s", m.Raw)
	}
}

// envelope decodes a broadcast's message.
func envelope(t *testing.T, m cable.Message) event.Envelope {
	t.Helper()
	var env event.Envelope
	require.NoError(t, json.Unmarshal(m.Message, &env), string(m.Raw))
	return env
}

func newAppender(rdb rueidis.Client, st *stack) *event.Appender {
	return event.NewAppender(rdb, st.keys, 100_000)
}

func mustEncode(t *testing.T, env event.Envelope) []byte {
	b, err := event.Encode(env)
	require.NoError(t, err)
	return b
}
