package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/stretchr/testify/require"
)

// cluster is the package's Redis Cluster: 3 masters with a replica each,
// started once (forming one takes seconds).
var cluster *redistest.Cluster

func TestMain(m *testing.M) {
	c, err := redistest.StartCluster(redistest.ClusterConfig{Masters: 3, Replicas: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	c.Stop()
	proctest.Cleanup()
	os.Exit(code)
}

const (
	apiPkg    = "github.com/chatterly/chatterly/api/cmd/chatterly-api"
	edgePkg   = "github.com/chatterly/chatterly/edge/cmd/chatterly-edge"
	workerPkg = "github.com/chatterly/chatterly/api/cmd/chatterly-worker"
	shards    = 8
)

// fleet is the running topology of one test.
type fleet struct {
	t      *testing.T
	keys   rkey.Space
	apis   []*proc
	edges  []*proc
	worker *proc
	http   *http.Client
}

// proc is a running process: addr is the api's base URL or the edge's
// cable address; admin the edge's or worker's admin address.
type proc struct {
	p     *proctest.Process
	addr  string
	admin string
}

// startFleet runs 2 api, 2 edge and a worker on a database of the test's
// own and the package's cluster under a key prefix of the test's own. Each
// process is given one node's URL (a replica's for some: any node names
// the cluster), so each finds the cluster by itself.
func startFleet(t *testing.T) *fleet {
	t.Helper()
	proctest.BuildAll(t, apiPkg, edgePkg, workerPkg)
	nodes := cluster.Nodes()
	keyDir := t.TempDir()
	require.NoError(t, token.GenerateKey(keyDir))
	f := &fleet{t: t, keys: rkey.New(redistest.Prefix(t), shards), http: &http.Client{Timeout: 10 * time.Second}}
	common := map[string]string{
		"DATABASE_URL":     pgtest.URL(t),
		"REDIS_KEY_PREFIX": f.keys.Prefix,
		"STREAM_SHARDS":    strconv.Itoa(shards),
		"JWT_KEY_DIR":      keyDir,
		"LOG_LEVEL":        "info",
		"SHUTDOWN_TIMEOUT": "2s",
		"GOMAXPROCS":       "2",
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range common {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	for i := 0; i < 2; i++ {
		p := proctest.Start(t, with(map[string]string{
			"REDIS_URL":      nodes[i*len(nodes)/2].URL,
			"API_ADDR":       "127.0.0.1:0",
			"API_ADMIN_ADDR": "127.0.0.1:0",
			// A busy shared machine is slow, not down; a failover still
			// answers 503 within this.
			"DEPENDENCY_TIMEOUT":     "2s",
			"ARGON2_MEMORY_KIB":      "8192",
			"RATE_MESSAGES":          "1000000",
			"RATE_CONVERSATIONS":     "100000",
			"RATE_REGISTER_PER_ADDR": "100000",
			"RATE_LOGIN_PER_ADDR":    "100000",
		}), proctest.Build(t, apiPkg))
		line := p.WaitLog(t, "listening", 60*time.Second)
		// REDIS_URL named one node; the api found the cluster.
		require.Equal(t, "redis", p.WaitLog(t, "redis cluster detected", time.Second)["dependency"])
		a := &proc{p: p, addr: "http://" + line["addr"].(string)}
		require.Eventually(t, func() bool { return proctest.Status(a.addr+"/readyz") == 200 }, 20*time.Second, 20*time.Millisecond,
			"api %d not ready:\n%s", i, p.Log)
		f.apis = append(f.apis, a)
	}
	for i := 0; i < 2; i++ {
		p := proctest.Start(t, with(map[string]string{
			"REDIS_URL":                 nodes[1+i*len(nodes)/2].URL,
			"EDGE_ADDR":                 "127.0.0.1:0",
			"EDGE_ADMIN_ADDR":           "127.0.0.1:0",
			"EDGE_EVENT_LOOPS":          "1",
			"EDGE_WORKERS":              "4",
			"EDGE_SHUTDOWN_WINDOW":      "100ms",
			"EDGE_MAX_SOCKETS_PER_USER": "100000",
			"EDGE_MAX_SOCKETS_PER_ADDR": "100000",
		}), proctest.Build(t, edgePkg))
		line := p.WaitLog(t, "edge listening", 60*time.Second)
		e := &proc{p: p, addr: line["addr"].(string), admin: line["admin_addr"].(string)}
		// The edge found the cluster and reads each shard in its own XREAD.
		readers := p.WaitLog(t, "reading shard streams", 10*time.Second)
		require.Equal(t, true, readers["cluster"])
		require.EqualValues(t, shards, readers["readers"])
		require.Eventually(t, func() bool { return proctest.Status("http://"+e.admin+"/readyz") == 200 }, 20*time.Second, 20*time.Millisecond,
			"edge %d not ready:\n%s", i, p.Log)
		f.edges = append(f.edges, e)
	}
	admin := proctest.Addr(proctest.FreePort(t))
	p := proctest.Start(t, with(map[string]string{
		"REDIS_URL":      nodes[2].URL,
		"WORKER_ADDR":    admin,
		"RELAY_GRACE":    "500ms",
		"RELAY_INTERVAL": "200ms",
	}), proctest.Build(t, workerPkg))
	require.Eventually(t, func() bool { return proctest.Status("http://"+admin+"/readyz") == 200 }, 60*time.Second, 20*time.Millisecond,
		"worker not ready:\n%s", p.Log)
	f.worker = &proc{p: p, admin: admin}
	return f
}

// call sends a JSON request to api number api and returns the status (0
// when the api could not be reached) and body.
func (f *fleet) call(api int, method, path, tok string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.apis[api].addr+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must is call from the test goroutine, expecting status want, decoding
// the answer into out (when not nil).
func (f *fleet) must(api int, method, path, tok string, body any, want int, out any) {
	f.t.Helper()
	status, b, err := f.call(api, method, path, tok, body)
	require.NoError(f.t, err)
	require.Equal(f.t, want, status, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(f.t, json.Unmarshal(b, out), "%s", b)
	}
}

// user is a registered user and its access token.
type user struct {
	ID    id.ID
	Name  string
	Token string
}

var serial int

// register signs a new user up through api.
func (f *fleet) register(api int, name string) user {
	f.t.Helper()
	serial++
	name = fmt.Sprintf("%s%d_%d", name, serial, time.Now().UnixNano()%1e6)
	var s struct {
		User  struct{ ID id.ID }
		Token string
	}
	f.must(api, "POST", "/auth/register", "", map[string]any{
		"email": name + "@example.com", "username": name, "password": "correct horse"}, 201, &s)
	return user{ID: s.User.ID, Name: name, Token: s.Token}
}

// group makes a group conversation of owner and members through api.
func (f *fleet) group(api int, owner user, members ...user) id.ID {
	f.t.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID.String()
	}
	var c struct{ ID id.ID }
	f.must(api, "POST", "/conversations", owner.Token, map[string]any{
		"kind": "group", "name": fmt.Sprintf("g%d", time.Now().UnixNano()%1e9), "member_ids": ids}, 201, &c)
	return c.ID
}

// lastSeq is the conversation's last_seq as u sees it.
func (f *fleet) lastSeq(u user, c id.ID) int64 {
	f.t.Helper()
	var conv struct {
		LastSeq *int64 `json:"last_seq"`
	}
	f.must(0, "GET", "/conversations/"+c.String(), u.Token, nil, 200, &conv)
	if conv.LastSeq == nil {
		return 0
	}
	return *conv.LastSeq
}

// sent is a message the api accepted (201, or 200 for a retry).
type sent struct {
	ID   id.ID
	Conv id.ID
	// Started is when its first attempt was sent.
	Started time.Time
}

// send posts body to c as u through api with clientMsgID, retrying with the
// same id on 503 and on a connection that failed (the api's answers during
// a Redis failover) until it is accepted or timeout passes. It returns the
// message, the statuses seen, and an error for any other answer.
func (f *fleet) send(api int, u user, c id.ID, body, clientMsgID string, timeout time.Duration) (sent, []int, error) {
	var statuses []int
	started := time.Now()
	deadline := started.Add(timeout)
	for {
		status, b, err := f.call(api, "POST", "/conversations/"+c.String()+"/messages", u.Token,
			map[string]any{"body": body, "client_msg_id": clientMsgID})
		statuses = append(statuses, status)
		switch {
		case err == nil && (status == 201 || status == 200):
			var m struct{ ID id.ID }
			if err := json.Unmarshal(b, &m); err != nil {
				return sent{}, statuses, err
			}
			return sent{ID: m.ID, Conv: c, Started: started}, statuses, nil
		case err != nil || status == 503:
			if time.Now().After(deadline) {
				return sent{}, statuses, fmt.Errorf("send %s not accepted within %s: last status %d: %v %s", clientMsgID, timeout, status, err, b)
			}
			time.Sleep(50 * time.Millisecond)
		default:
			return sent{}, statuses, fmt.Errorf("send %s: status %d: %s", clientMsgID, status, b)
		}
	}
}

// socket is a user's connection to an edge, subscribed to conversations,
// applying their events in seq order as a client does: a duplicate is
// dropped, and a gap is filled from GET /conversations/:id/events?after_seq
// before the event that revealed it.
type socket struct {
	f    *fleet
	name string
	u    user
	c    *cable.Conn
	ids  map[string]id.ID // identifier -> conversation

	mu        sync.Mutex
	last      map[id.ID]int64
	live      map[id.ID]time.Time // message id -> when it arrived live
	recovered map[id.ID]bool      // message ids fetched by after_seq
	gaps      int
	dups      int
	err       error
	changed   chan struct{}
}

// connect dials edge as u, subscribes to convs (from their current
// last_seq) and applies their events until the test ends.
func (f *fleet) connect(edge int, u user, convs ...id.ID) *socket {
	t := f.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cable.Dial(ctx, cable.Request{Addr: f.edges[edge].addr, Token: u.Token})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s := &socket{f: f, name: fmt.Sprintf("%s@edge%d", u.Name, edge), u: u, c: c, ids: map[string]id.ID{},
		last: map[id.ID]int64{}, live: map[id.ID]time.Time{}, recovered: map[id.ID]bool{}, changed: make(chan struct{}, 1)}
	m, err := c.Next(10*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "welcome", m.Type, "%s", m.Raw)
	for _, conv := range convs {
		s.last[conv] = f.lastSeq(u, conv)
		ident := cable.Identifier("ConversationChannel", "id", conv.String())
		s.ids[ident] = conv
		require.NoError(t, c.Subscribe(ident))
		m, err := c.Next(10*time.Second, true)
		require.NoError(t, err)
		require.Equal(t, "confirm_subscription", m.Type, "%s", m.Raw)
	}
	go s.run()
	return s
}

func (s *socket) run() {
	for {
		m, err := s.c.Next(time.Minute, true)
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			s.signal()
			return
		}
		conv, ok := s.ids[m.Identifier]
		if !ok || m.Type != "" {
			continue
		}
		var env event.Envelope
		if json.Unmarshal(m.Message, &env) != nil || env.Seq == 0 {
			continue
		}
		s.apply(conv, env, true)
	}
}

func (s *socket) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// apply takes one event of conv in seq order.
func (s *socket) apply(conv id.ID, env event.Envelope, live bool) {
	s.mu.Lock()
	last := s.last[conv]
	s.mu.Unlock()
	switch {
	case env.Seq <= last:
		s.mu.Lock()
		s.dups++
		s.mu.Unlock()
		return
	case env.Seq > last+1:
		s.mu.Lock()
		s.gaps++
		s.mu.Unlock()
		s.recover(conv, last, env.Seq-1)
		s.apply(conv, env, live)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[conv] = env.Seq
	if env.Type == event.MessageCreated {
		var msg struct{ ID id.ID }
		if json.Unmarshal(env.Data, &msg) == nil {
			if live {
				s.live[msg.ID] = time.Now()
			} else {
				s.recovered[msg.ID] = true
			}
		}
	}
	s.signal()
}

// recover fetches conv's events after seq after up to to through the api,
// as a client does on a gap (retrying while the api answers 503).
func (s *socket) recover(conv id.ID, after, to int64) {
	deadline := time.Now().Add(time.Minute)
	for after < to {
		if time.Now().After(deadline) {
			s.mu.Lock()
			s.err = fmt.Errorf("events %d..%d of %s not recovered by after_seq", after+1, to, conv)
			s.mu.Unlock()
			return
		}
		var page struct {
			Items []event.Envelope `json:"items"`
		}
		status, b, err := s.f.call(int(after)%2, "GET", fmt.Sprintf("/conversations/%s/events?after_seq=%d&limit=500", conv, after), s.u.Token, nil)
		if err != nil || status != 200 || json.Unmarshal(b, &page) != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		for _, env := range page.Items {
			if env.Seq > to {
				return
			}
			s.apply(conv, env, false)
			after = env.Seq
		}
		if len(page.Items) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// waitFor waits until the socket has every message of msgs (live or
// recovered) and returns how many it has not, and why, on timeout.
func (s *socket) waitFor(msgs []sent, timeout time.Duration) (missing int, err error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		missing = 0
		for _, m := range msgs {
			if _, ok := s.live[m.ID]; !ok && !s.recovered[m.ID] {
				missing++
			}
		}
		err = s.err
		s.mu.Unlock()
		if missing == 0 || err != nil {
			return missing, err
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			return missing, nil
		}
	}
}

// stats is what the socket counted.
func (s *socket) stats() (live, recovered, gaps, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live), len(s.recovered), s.gaps, s.dups
}

// liveAt is when message m arrived live (zero if it did not).
func (s *socket) liveAt(m id.ID) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[m]
}
