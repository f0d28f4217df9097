package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

// bundle is a router served on loopback, with what a test needs to drive
// it: a real token checker (signing key, Redis denylist), the metrics
// registry, and a client.
type bundle struct {
	t      *testing.T
	url    string
	router *rest.Router
	reg    *prometheus.Registry
	iss    *token.Issuer
	deny   *token.Denylist
	client *http.Client
}

// setup builds a router with an origin allow-list of http://app.test,
// lets mount add routes, and serves it with a 1 MiB server body limit.
func setup(t *testing.T, mount func(r *rest.Router)) *bundle {
	t.Helper()
	rdb, keys := redistest.Client(t)
	dir := t.TempDir()
	require.NoError(t, token.GenerateKey(dir))
	priv, err := token.LoadSigningKey(dir, false)
	require.NoError(t, err)
	iss, err := token.NewIssuer(priv, time.Minute)
	require.NoError(t, err)
	pubs, err := token.LoadPublicKeys(dir)
	require.NoError(t, err)
	ver, err := token.NewVerifier(pubs, 1000)
	require.NoError(t, err)
	deny := token.NewDenylist(rdb, keys)

	reg := prometheus.NewRegistry()
	r := rest.NewRouter(rest.Config{
		Auth:           &token.Checker{Verifier: ver, Denylist: deny},
		AllowedOrigins: []string{"http://app.test/"}, // a trailing slash is forgiven
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:        reg,
	})
	mount(r)
	srv := &fasthttp.Server{Handler: r.Serve, ErrorHandler: rest.ServerErrorHandler, MaxRequestBodySize: 1 << 20}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return &bundle{t: t, url: "http://" + ln.Addr().String(), router: r, reg: reg, iss: iss, deny: deny,
		client: &http.Client{Timeout: 10 * time.Second}}
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t *testing.T) map[string]any {
	t.Helper()
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "%s", r.body)
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "%s", r.body)
	return m
}

// do sends body (nil for none) with the given headers.
func (b *bundle) do(method, path string, body []byte, hdr map[string]string) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.url+path, rd)
	require.NoError(b.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

// bearer issues a token for user 7 in session sid.
func (b *bundle) bearer(sid int64) string {
	raw, _, err := b.iss.Issue(7, idOf(sid))
	require.NoError(b.t, err)
	return "Bearer " + raw
}
