package call_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// edgeProcess is the chatterly-edge binary, started by the test.
type edgeProcess struct {
	addr, admin string
}

// startEdge builds and runs the edge on the api stack's Redis, key prefix,
// shards and verification keys. The edge never touches Postgres.
func startEdge(t *testing.T, s *apitest.Stack) *edgeProcess {
	t.Helper()
	p := proctest.Start(t, map[string]string{
		"REDIS_URL":            s.Deps.Cfg.RedisURL,
		"REDIS_KEY_PREFIX":     s.Deps.Keys.Prefix,
		"STREAM_SHARDS":        fmt.Sprint(s.Deps.Keys.Shards),
		"JWT_KEY_DIR":          s.KeyDir,
		"EDGE_ADDR":            "127.0.0.1:0",
		"EDGE_ADMIN_ADDR":      "127.0.0.1:0",
		"EDGE_EVENT_LOOPS":     "1",
		"EDGE_WORKERS":         "2",
		"EDGE_SHUTDOWN_WINDOW": "100ms",
		"LOG_LEVEL":            "info",
	}, proctest.Build(t, "github.com/chatterly/chatterly/edge/cmd/chatterly-edge"))
	line := p.WaitLog(t, "edge listening", 20*time.Second)
	e := &edgeProcess{}
	e.addr, _ = line["addr"].(string)
	e.admin, _ = line["admin_addr"].(string)
	require.Eventually(t, func() bool { return e.status("/readyz") == http.StatusOK }, 10*time.Second, 20*time.Millisecond,
		"edge not ready:\n%s", p.Log)
	return e
}

// status is the HTTP status of an admin endpoint (0 when unreachable).
func (e *edgeProcess) status(path string) int {
	r, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + e.admin + path)
	if err != nil {
		return 0
	}
	r.Body.Close()
	return r.StatusCode
}

// dropped is the edge's count of actions dropped for reason.
func (e *edgeProcess) dropped(t *testing.T, reason string) float64 {
	t.Helper()
	r, err := http.Get("http://" + e.admin + "/metrics")
	require.NoError(t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "chatterly_edge_actions_dropped_total{") && strings.Contains(line, `reason="`+reason+`"`) {
			var v float64
			_, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v)
			require.NoError(t, err)
			sum += v
		}
	}
	return sum
}

var callChannel = cable.Identifier("CallChannel")

// socket is a user's connection to the edge, subscribed to CallChannel.
type socket struct {
	t    *testing.T
	user convtest.User
	c    *cable.Conn
}

func connect(t *testing.T, e *edgeProcess, u convtest.User) *socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cable.Dial(ctx, cable.Request{Addr: e.addr, Token: u.Token})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s := &socket{t: t, user: u, c: c}
	require.Equal(t, "welcome", s.next().Type)
	require.NoError(t, c.Subscribe(callChannel))
	m := s.next()
	require.Equal(t, "confirm_subscription", m.Type, "%s", m.Raw)
	return s
}

func (s *socket) next() cable.Message {
	s.t.Helper()
	m, err := s.c.Next(10*time.Second, true)
	require.NoError(s.t, err)
	return m
}

// event reads the next CallChannel event.
func (s *socket) event() event.Envelope {
	s.t.Helper()
	m := s.next()
	require.Equal(s.t, callChannel, m.Identifier, "%s", m.Raw)
	var env event.Envelope
	require.NoError(s.t, json.Unmarshal(m.Message, &env))
	return env
}

// signal sends a send_signal to the other participant.
func (s *socket) signal(call, to id.ID, kind, payload string) {
	s.t.Helper()
	data := fmt.Sprintf(`{"action":"send_signal","call_id":"%s","to":"%s","kind":"%s","payload":%s}`, call, to, kind, payload)
	require.NoError(s.t, s.c.Perform(callChannel, data))
}

// signalIn is a call.signal as the receiving client sees it.
type signalIn struct {
	CallID  id.ID           `json:"call_id"`
	From    id.ID           `json:"from"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// expectSignal reads the next event, which must be kind from from carrying
// payload.
func (s *socket) expectSignal(call, from id.ID, kind, payload string) {
	s.t.Helper()
	env := s.event()
	require.Equal(s.t, event.CallSignal, env.Type, "%s", env.Data)
	var in signalIn
	require.NoError(s.t, json.Unmarshal(env.Data, &in))
	require.Equal(s.t, call, in.CallID)
	require.Equal(s.t, from, in.From)
	require.Equal(s.t, kind, in.Kind)
	require.JSONEq(s.t, payload, string(in.Payload))
}

// TestSignalingEndToEndSurvivesAStoppedPostgres: two users on the real
// edge binary through CallChannel, a real call session made over REST;
// the call's lifecycle events reach both sockets; then Postgres stops, and
// the offer, the answer and ICE candidates both ways still flow, since the
// edge checks the participant set in Redis and never asks Postgres. A
// third user's send_signal for the call is refused.
func TestSignalingEndToEndSurvivesAStoppedPostgres(t *testing.T) {
	t.Parallel()
	pg := startPrivatePG(t)
	s := apitest.Start(t, map[string]string{"DATABASE_URL": pg.URL})
	edge := startEdge(t, s)
	ann, bob, carl := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "carl")
	annS, bobS, carlS := connect(t, edge, ann), connect(t, edge, bob), connect(t, edge, carl)

	c := callOf(t, s.Do("POST", "/calls", ann.Token, map[string]any{"callee_id": bob.ID.String(), "media": "video"}), http.StatusCreated)
	incoming := bobS.event()
	require.Equal(t, event.CallIncoming, incoming.Type)
	var got call.JSON
	require.NoError(t, json.Unmarshal(incoming.Data, &got))
	require.Equal(t, c.ID, got.ID)
	path := "/calls/" + c.ID.String()
	callOf(t, s.Do("POST", path+"/ring", bob.Token, nil), http.StatusOK)
	callOf(t, s.Do("POST", path+"/accept", bob.Token, nil), http.StatusOK)
	for _, sock := range []*socket{annS, bobS} {
		require.Equal(t, event.CallRinging, sock.event().Type)
		require.Equal(t, event.CallAccepted, sock.event().Type)
	}

	// Postgres goes away: nothing that needs it works any more.
	pg.Stop(t)
	_, err := pgx.Connect(context.Background(), pg.URL)
	require.Error(t, err, "postgres is down")
	require.GreaterOrEqual(t, s.Do("GET", path, ann.Token, nil).Status, 500)

	offer := `{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`
	answer := `{"type":"answer","sdp":"v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}`
	iceA := `{"candidate":"candidate:1 1 udp 2122260223 10.0.0.1 54400 typ host","sdpMid":"0","sdpMLineIndex":0}`
	iceB := `{"candidate":"candidate:2 1 udp 2122260223 10.0.0.2 54401 typ host","sdpMid":"0","sdpMLineIndex":0}`
	annS.signal(c.ID, bob.ID, "offer", offer)
	bobS.expectSignal(c.ID, ann.ID, "offer", offer)
	bobS.signal(c.ID, ann.ID, "answer", answer)
	annS.expectSignal(c.ID, bob.ID, "answer", answer)
	annS.signal(c.ID, bob.ID, "ice", iceA)
	bobS.expectSignal(c.ID, ann.ID, "ice", iceA)
	bobS.signal(c.ID, ann.ID, "ice", iceB)
	annS.expectSignal(c.ID, bob.ID, "ice", iceB)

	// carl is no participant: his signal to bob is refused, so the next
	// thing bob hears is ann's next candidate, and the edge counts it.
	before := edge.dropped(t, "not_participant")
	carlS.signal(c.ID, bob.ID, "ice", iceB)
	require.Eventually(t, func() bool { return edge.dropped(t, "not_participant") == before+1 }, 5*time.Second, 20*time.Millisecond)
	annS.signal(c.ID, bob.ID, "ice", iceA)
	bobS.expectSignal(c.ID, ann.ID, "ice", iceA)
}
