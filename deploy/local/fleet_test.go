package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// make fleet's addresses in the test (fleet_ports, start_redis_cluster,
// fleet_postgres): fixed ports of the range these tests own, below the
// ephemeral range.
const (
	fleetPort        = 22500
	fleetRedisPort   = 22900 // 6 nodes and their bus ports: 22900-22911
	fleetReplicaPort = 22912
	fleetBouncerPort = 22913
)

// TestFleet starts make fleet's script (run.sh with FLEET=1) as make run's
// test does: it creates its Redis Cluster, makes a streaming replica of the
// Postgres primary and starts PgBouncer, runs 2 api, 3 edge, the worker
// and the web fixture and prints their URLs. The replica streams and serves
// the api's reads that may lag; every connection of the api and the worker
// to the primary is one of PgBouncer's; a message sent through the second
// api reaches a socket on every edge; Ctrl-C stops everything.
func TestFleet(t *testing.T) {
	env := newRunEnv(t)
	s := env.start(t, "FLEET=1", fmt.Sprintf("FLEET_PORT=%d", fleetPort), fmt.Sprintf("FLEET_REDIS_PORT=%d", fleetRedisPort),
		fmt.Sprintf("FLEET_REPLICA_PORT=%d", fleetReplicaPort), fmt.Sprintf("FLEET_PGBOUNCER_PORT=%d", fleetBouncerPort))
	apis := []string{fmt.Sprintf("127.0.0.1:%d", fleetPort), fmt.Sprintf("127.0.0.1:%d", fleetPort+100)}
	var edges []string
	for i := 0; i < 3; i++ {
		edges = append(edges, fmt.Sprintf("127.0.0.1:%d", fleetPort+1+100*i))
	}
	deadline := time.Now().Add(3 * time.Minute)
	for _, line := range []string{
		"[stack] creating the Redis Cluster",
		fmt.Sprintf("[stack] postgres replica on 127.0.0.1:%d, pgbouncer on 127.0.0.1:%d (transaction pooling)", fleetReplicaPort, fleetBouncerPort),
		`[api-1] {*"msg":"redis cluster detected"`, `[api-2] {*"msg":"redis cluster detected"`,
		`[api-1] {*"msg":"listening"`, `[api-2] {*"msg":"listening"`,
		`[edge-1] {*"msg":"reading shard streams"*"readers":8*"cluster":true`,
		`[edge-2] {*"msg":"reading shard streams"*"readers":8*"cluster":true`,
		`[edge-3] {*"msg":"reading shard streams"*"readers":8*"cluster":true`,
		`[worker] {*"msg":"worker running"`, `[web] fixture listening`, `[stack] running; Ctrl-C stops everything`,
	} {
		s.out.wait(t, line, time.Until(deadline))
	}
	s.out.require(t, fmt.Sprintf("[stack] fleet: api http://%s http://%s", apis[0], apis[1]))
	s.out.require(t, fmt.Sprintf("[stack] fleet: cable ws://%s/cable ws://%s/cable ws://%s/cable", edges[0], edges[1], edges[2]))
	s.out.require(t, fmt.Sprintf(`[web] fixture listening {"api":"http://%s","cable":"ws://%s/cable"`, apis[0], edges[0]))
	s.out.require(t, fmt.Sprintf("[stack] fleet: redis cluster redis://127.0.0.1:%d/0 (6 nodes), postgres postgres://postgres@127.0.0.1:%d/chatterly?sslmode=disable, replica postgres://postgres@127.0.0.1:%d/chatterly?sslmode=disable",
		fleetRedisPort, fleetBouncerPort, fleetReplicaPort))
	for i, a := range apis {
		require.Eventually(t, func() bool { return proctest.Status("http://"+a+"/readyz") == 200 }, time.Minute, 50*time.Millisecond, "api-%d ready", i+1)
	}
	m := regexp.MustCompile(`\[stack\] postgres on 127\.0\.0\.1:(\d+),`).FindStringSubmatch(s.out.String())
	require.NotNil(t, m, "no line naming the primary's port")
	primary := pgConnect(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%s/chatterly?sslmode=disable", m[1]))

	// The replica streams from the primary.
	require.Eventually(t, func() bool {
		var n int
		return primary.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'`).Scan(&n) == nil && n == 1
	}, 30*time.Second, 50*time.Millisecond, "pg_stat_replication shows no streaming replica")

	ann, bob := fleetRegister(t, apis[0], "ann"), fleetRegister(t, apis[0], "bob")
	var conv struct{ ID string }
	fleetPost(t, apis[0], "/conversations", ann.Token, map[string]any{"kind": "group", "name": "fleet", "member_ids": []string{bob.ID}}, 201, &conv)
	ident := cable.Identifier("ConversationChannel", "id", conv.ID)
	var socks []*cable.Conn
	for i, e := range edges {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := cable.Dial(ctx, cable.Request{Addr: e, Token: bob.Token})
		cancel()
		require.NoError(t, err, "edge-%d", i+1)
		defer c.Close()
		for _, want := range []string{"welcome", "confirm_subscription"} {
			if want == "confirm_subscription" {
				require.NoError(t, c.Subscribe(ident))
			}
			m, err := c.Next(10*time.Second, true)
			require.NoError(t, err)
			require.Equal(t, want, m.Type, "edge-%d: %s", i+1, m.Raw)
		}
		socks = append(socks, c)
	}
	var msg struct{ ID string }
	fleetPost(t, apis[1], "/conversations/"+conv.ID+"/messages", ann.Token, map[string]any{"body": "to every edge"}, 201, &msg)
	for i, c := range socks {
		for {
			m, err := c.Next(10*time.Second, true)
			require.NoError(t, err, "edge-%d: the message never came", i+1)
			var env event.Envelope
			if m.Identifier != ident || json.Unmarshal(m.Message, &env) != nil || env.Type != event.MessageCreated {
				continue
			}
			require.Contains(t, string(env.Data), msg.ID, "edge-%d", i+1)
			break
		}
	}

	// bob's reads that may lag (the member list) go to the replica once it
	// has replayed his own last write, on each api: its replica-read
	// metric moves.
	for i, a := range apis {
		admin := fmt.Sprintf("127.0.0.1:%d", fleetPort+10+100*i)
		before := replicaReads(t, admin)
		require.Eventually(t, func() bool {
			require.Equal(t, 200, fleetGet(t, a, "/conversations/"+conv.ID+"/members", bob.Token))
			return replicaReads(t, admin) > before
		}, 30*time.Second, 100*time.Millisecond, "api-%d served no read from the replica", i+1)
	}

	// Every connection of the api and the worker to the primary is one of
	// PgBouncer's server connections (its console's SHOW SERVERS names
	// their backend pids); only this test's own connection is direct.
	bouncer := pgConnect(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pgbouncer?sslmode=disable&default_query_exec_mode=simple_protocol", fleetBouncerPort))
	rows, err := primary.Query(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE datname = 'chatterly' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`)
	require.NoError(t, err)
	backends, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	require.NotEmpty(t, backends, "no connection of the api or worker on the primary")
	servers := bouncerServerPids(t, bouncer)
	for _, pid := range backends {
		require.Contains(t, servers, strconv.Itoa(int(pid)), "backend %d on the primary is not PgBouncer's (its servers: %v)", pid, servers)
	}

	// Ctrl-C, as make run is stopped: every process drains, Postgres, its
	// replica, PgBouncer and the 6 Redis nodes stop, nothing is left.
	require.NoError(t, syscall.Kill(-s.pgid, syscall.SIGINT))
	s.waitExit(t)
	require.Equal(t, 0, s.status(), "run.sh's exit status after Ctrl-C")
	for _, n := range []string{"api-1", "api-2", "edge-1", "edge-2", "edge-3", "worker", "web"} {
		s.out.require(t, "[stack] "+n+" exited with status 0")
	}
	s.out.require(t, `[edge-3] {*"msg":"stopped"`)
	s.out.forbid(t, "SIGPIPE")
	s.requireCleanServices(t, "redis-1", "redis-2", "redis-3", "redis-4", "redis-5", "redis-6", "pg-replica", "pgbouncer")
	s.out.require(t, "[pg-replica] LOG:  database system is shut down")
}

// pgConnect opens a connection closed when the test ends.
func pgConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// bouncerServerPids reads the backend pid of each of PgBouncer's server
// connections from its console (SHOW SERVERS, column remote_pid).
func bouncerServerPids(t *testing.T, console *pgx.Conn) []string {
	t.Helper()
	rows, err := console.Query(context.Background(), "SHOW SERVERS")
	require.NoError(t, err)
	defer rows.Close()
	col := -1
	for i, f := range rows.FieldDescriptions() {
		if f.Name == "remote_pid" {
			col = i
		}
	}
	require.GreaterOrEqual(t, col, 0, "SHOW SERVERS has no remote_pid column")
	var pids []string
	for rows.Next() {
		v, err := rows.Values()
		require.NoError(t, err)
		pids = append(pids, fmt.Sprint(v[col]))
	}
	require.NoError(t, rows.Err())
	return pids
}

// replicaReads sums chatterly_api_replica_reads_total{served_by="replica"}
// over its reasons, from the api's metrics at admin.
func replicaReads(t *testing.T, admin string) float64 {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + admin + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "chatterly_api_replica_reads_total{") && strings.Contains(line, `served_by="replica"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err, line)
			sum += v
		}
	}
	return sum
}

// fleetGet GETs path from the api at addr and returns the status.
func fleetGet(t *testing.T, addr, path, tok string) int {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// fleetUser is a registered user.
type fleetUser struct {
	ID    string
	Token string
}

func fleetRegister(t *testing.T, api, name string) fleetUser {
	t.Helper()
	name = fmt.Sprintf("%s%d", name, time.Now().UnixNano()%1e9)
	var r struct {
		User  struct{ ID string }
		Token string
	}
	fleetPost(t, api, "/auth/register", "", map[string]any{
		"email": name + "@example.com", "username": name, "password": "correct horse"}, 201, &r)
	return fleetUser{ID: r.User.ID, Token: r.Token}
}

// fleetPost posts body as JSON to the api at addr, expects status want and
// decodes the answer into out.
func fleetPost(t *testing.T, addr, path, tok string, body any, want int, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var raw json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	require.Equal(t, want, resp.StatusCode, "POST %s: %s", path, raw)
	require.NoError(t, json.Unmarshal(raw, out))
}
