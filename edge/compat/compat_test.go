package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { proctest.Main(m) }

// TestOfficialClient runs compat.mjs (the official @rails/actioncable
// client on Node) against the api and the edge, both built from this tree,
// on a database and a Redis key prefix of the test's own.
func TestOfficialClient(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: apt-get install -y nodejs npm")
	}
	npmCI(t)
	apiBin := proctest.Build(t, "github.com/chatterly/chatterly/api/cmd/chatterly-api")
	edgeBin := proctest.Build(t, "github.com/chatterly/chatterly/edge/cmd/chatterly-edge")

	keyDir := t.TempDir()
	require.NoError(t, token.GenerateKey(keyDir))
	_, keys := redistest.Client(t) // the prefix, and its keys deleted at the end
	common := map[string]string{
		"REDIS_URL":        redistest.URL(t),
		"REDIS_KEY_PREFIX": keys.Prefix,
		"STREAM_SHARDS":    fmt.Sprint(keys.Shards),
		"JWT_KEY_DIR":      keyDir,
		"LOG_LEVEL":        "info",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range common {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	apiAddr := proctest.Addr(proctest.FreePort(t))
	api := proctest.Start(t, with(map[string]string{"DATABASE_URL": pgtest.URL(t), "API_ADDR": apiAddr,
		"API_ADMIN_ADDR": proctest.Addr(proctest.FreePort(t)),
		"NODE_ID":        "1", "ARGON2_MEMORY_KIB": "8192"}), apiBin)
	edgeEnv := with(map[string]string{"EDGE_ADDR": proctest.Addr(proctest.FreePort(t)),
		"EDGE_ADMIN_ADDR": proctest.Addr(proctest.FreePort(t)), "EDGE_SHUTDOWN_WINDOW": "200ms"})
	edge := startEdge(t, edgeBin, edgeEnv)
	apiURL := "http://" + apiAddr
	require.Eventually(t, func() bool { return proctest.Status(apiURL+"/healthz") == 200 }, 20*time.Second, 50*time.Millisecond,
		"api did not start:\n%s", api.Log)

	// Two users and a group conversation, through the api.
	alice := register(t, apiURL, "alice")
	bob := register(t, apiURL, "bob")
	var conv struct{ ID string }
	call(t, apiURL, "POST", "/conversations", alice.Token, map[string]any{"kind": "group", "name": "compat", "member_ids": []string{bob.User.ID}}, &conv)

	// bob listens with the Go client, to see alice's typing.
	bobSock, err := cable.Dial(context.Background(), cable.Request{Addr: edgeEnv["EDGE_ADDR"], Token: bob.Token})
	require.NoError(t, err)
	defer bobSock.Close()
	ident := cable.Identifier("ConversationChannel", "id", conv.ID)
	m, err := bobSock.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "welcome", m.Type)
	require.NoError(t, bobSock.Subscribe(ident))
	m, err = bobSock.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "confirm_subscription", m.Type)

	node := exec.Command("node", "compat.mjs")
	node.Env = append(os.Environ(), "API_URL="+apiURL, "EDGE_URL=ws://"+edgeEnv["EDGE_ADDR"],
		"LOGIN=alice", "PASSWORD="+password, "CONVERSATION_ID="+conv.ID)
	stdin, err := node.StdinPipe()
	require.NoError(t, err)
	stdout, err := node.StdoutPipe()
	require.NoError(t, err)
	var stderr proctest.Buffer // the client's own log, shown on failure
	node.Stderr = &stderr
	require.NoError(t, node.Start())
	t.Cleanup(func() { _ = node.Process.Kill(); _ = node.Wait() })
	steps := bufio.NewScanner(stdout)
	expect := func(step string) map[string]any {
		t.Helper()
		for steps.Scan() {
			var s map[string]any
			require.NoError(t, json.Unmarshal(steps.Bytes(), &s), steps.Text())
			if s["step"] == "error" {
				t.Fatalf("node: %v\n%s", s["why"], stderr.String())
			}
			if s["step"] == step {
				return s
			}
		}
		t.Fatalf("node ended before %q: %v\n%s", step, steps.Err(), stderr.String())
		return nil
	}
	post := func(body string) {
		var msg map[string]any
		call(t, apiURL, "POST", "/conversations/"+conv.ID+"/messages", bob.Token, map[string]any{"body": body}, &msg)
	}

	expect("logged_in")
	expect("subscribed")
	post("hello from the api")
	_, err = io.WriteString(stdin, "posted\n")
	require.NoError(t, err)
	got := expect("received")
	require.Equal(t, "hello from the api", got["body"])

	// alice's typing reaches bob (and carries her id).
	expect("typed")
	for {
		m, err := bobSock.Next(5*time.Second, true)
		require.NoError(t, err)
		if strings.Contains(string(m.Message), `"type":"typing"`) {
			require.Contains(t, string(m.Message), `"user_id":"`+alice.User.ID+`"`)
			break
		}
	}

	pinged := expect("pinged")
	require.GreaterOrEqual(t, pinged["pings"], float64(3))
	require.Equal(t, float64(1), pinged["connects"], "no reconnect while pinged")

	// Restart the edge on the same address: the client is told
	// server_restart, reconnects on its own and subscribes again.
	edge.Signal(syscall.SIGTERM)
	select {
	case <-edge.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("edge did not stop")
	}
	startEdge(t, edgeBin, edgeEnv)
	expect("resubscribed")
	post("after the restart")
	_, err = io.WriteString(stdin, "posted\n")
	require.NoError(t, err)
	done := expect("done")
	require.Equal(t, float64(2), done["connects"])
}

const password = "correct horse battery staple"

type session struct {
	Token string
	User  struct{ ID string }
}

func register(t *testing.T, apiURL, name string) session {
	var s session
	call(t, apiURL, "POST", "/auth/register", "", map[string]any{"email": name + "@example.com", "username": name,
		"password": password, "display_name": name}, &s)
	require.NotEmpty(t, s.Token)
	return s
}

func call(t *testing.T, apiURL, method, path, tok string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, apiURL+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	require.Less(t, res.StatusCode, 300, "%s %s: %s", method, path, rb)
	require.NoError(t, json.Unmarshal(rb, out), string(rb))
}

func startEdge(t *testing.T, bin string, env map[string]string) *proctest.Process {
	p := proctest.Start(t, env, bin)
	p.WaitLog(t, "edge listening", 15*time.Second)
	require.Eventually(t, func() bool { return proctest.Status("http://"+env["EDGE_ADMIN_ADDR"]+"/readyz") == 200 },
		15*time.Second, 20*time.Millisecond)
	return p
}

// npmCI installs the locked client packages when node_modules is missing.
func npmCI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("node_modules", "@rails", "actioncable", "package.json")); err == nil {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
}
