// Package apitest starts the whole api in process for a test: its own
// database (pgtest), its own Redis key prefix (redistest), its own signing
// key, on a loopback port, with an HTTP client that speaks JSON.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/api/server"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/token"
)

// Stack is a running api and what it runs on.
type Stack struct {
	T        testing.TB
	URL      string // http://127.0.0.1:port
	AdminURL string // the admin address (/metrics): http://127.0.0.1:port
	Deps     *server.Deps
	Server   *server.Server
	KeyDir   string
	DBURL    string
	RedisURL string
	Client   *http.Client
	// Log holds the api's log lines (error level, env's LOG_LEVEL when
	// given, debug with TEST_LOG); they also go to stderr.
	Log *proctest.Buffer
}

// Start runs the api for t. env overrides configuration variables (for
// example lower rate limits, or DATABASE_URL and REDIS_URL to put the api
// on a database or Redis the test can take away); everything else takes
// its default.
func Start(t testing.TB, env map[string]string) *Stack {
	t.Helper()
	dbURL := env["DATABASE_URL"]
	procURL, bounce := dbURL, false
	if dbURL == "" {
		dbURL = pgtest.URL(t)
		// With TEST_PGBOUNCER=1 the api's pools go through PgBouncer;
		// DBURL stays the direct one, for the test's own connections.
		procURL, bounce = pgtest.ProcessURL(t, dbURL)
	}
	redisURL := env["REDIS_URL"]
	if redisURL == "" {
		redisURL = redistest.URL(t)
	}
	keyDir := t.TempDir()
	if err := token.GenerateKey(keyDir); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"DATABASE_URL":     procURL,
		"REDIS_URL":        redisURL,
		"REDIS_KEY_PREFIX": redistest.Prefix(t),
		"JWT_KEY_DIR":      keyDir,
		"NODE_ID":          "1",
		// Cheap hashing keeps tests fast; production defaults are stronger.
		"ARGON2_MEMORY_KIB": "8192",
		"STREAM_SHARDS":     "4",
		// Tests share a busy machine: a call that waits 1 s for a new
		// Postgres connection there is slow, not down. Outage tests set
		// the production default (1s) themselves.
		"DEPENDENCY_TIMEOUT": "5s",
		// Uploaded files stay in the test's own folder.
		"FILE_DIR": t.TempDir(),
	}
	if bounce {
		vars["DATABASE_PGBOUNCER"] = "1"
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := server.LoadConfig(config.FromMap(vars))
	if err != nil {
		t.Fatal(err)
	}
	level := "error"
	if os.Getenv("TEST_LOG") != "" {
		level = "debug"
	} else if l := env["LOG_LEVEL"]; l != "" {
		level = l
	}
	logs := &proctest.Buffer{}
	log := logging.New(io.MultiWriter(os.Stderr, logs), level, "api")
	ctx, cancel := context.WithCancel(context.Background())
	deps, err := server.Open(ctx, cfg, log, metrics.NewRegistry())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv, err := server.New(ctx, deps)
	if err != nil {
		cancel()
		deps.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeAdmin(admin) }()
	s := &Stack{T: t, URL: "http://" + ln.Addr().String(), AdminURL: "http://" + admin.Addr().String(),
		Deps: deps, Server: srv, KeyDir: keyDir,
		DBURL: dbURL, RedisURL: redisURL, Client: &http.Client{Timeout: 30 * time.Second}, Log: logs}
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
		cancel()
		redistest.Flush(deps.Redis, deps.Keys.Prefix)
		deps.Close()
	})
	return s
}

// Admin GETs path on the admin address and returns the status and body.
func (s *Stack) Admin(t testing.TB, path string) (int, string) {
	t.Helper()
	r, err := s.Client.Get(s.AdminURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode, string(b)
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Code is the problem code of a problem response ("" otherwise).
func (r *Response) Code() string {
	var p struct{ Code string }
	_ = json.Unmarshal(r.Body, &p)
	return p.Code
}

// Do sends a request. body may be nil, a []byte or string (sent as is, with
// contentType), or any value (sent as JSON). tok, when set, is the bearer.
func (s *Stack) Do(method, path, tok string, body any) *Response {
	return s.DoWith(method, path, tok, body, "application/json", nil)
}

// DoWith is Do with an explicit content type and extra headers.
func (s *Stack) DoWith(method, path, tok string, body any, contentType string, hdr map[string]string) *Response {
	s.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.T.Fatal(err)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		s.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// From returns the stack with a client whose connections come from ip, a
// loopback address such as 127.0.0.2: per-address limits see another
// client. It shares everything else with s.
func (s *Stack) From(ip string) *Stack {
	c := *s
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c.Client = &http.Client{Timeout: s.Client.Timeout, Transport: &http.Transport{DialContext: d.DialContext}}
	return &c
}
