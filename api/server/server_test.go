package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	r := s.Do("GET", "/healthz", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"status":"ok"}`, string(r.Body))

	r = s.Do("GET", "/readyz", "", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"ready":true,"checks":{"postgres":"ok","redis":"ok"}}`, string(r.Body))

	// Without Postgres the api is alive but not ready.
	s.Deps.DB.Close()
	r = s.Do("GET", "/readyz", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s", r.Body)
	m := r.Map(t)
	require.Equal(t, false, m["ready"])
	checks := m["checks"].(map[string]any)
	require.NotEqual(t, "ok", checks["postgres"])
	require.Equal(t, "ok", checks["redis"])
	require.Equal(t, http.StatusOK, s.Do("GET", "/healthz", "", nil).Status)
}

// /metrics is on the admin address (API_ADMIN_ADDR), not on API_ADDR where
// clients are; pprof is there only when API_PPROF is set.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	s.Do("GET", "/healthz", "", nil)
	s.Do("GET", "/me", "", nil)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/metrics", "", nil).Status, "not on API_ADDR")
	status, body := s.Admin(t, "/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `chatterly_api_requests_total{method="GET",route="/healthz",status="200"} 1`)
	require.Contains(t, body, `chatterly_api_requests_total{method="GET",route="/me",status="401"} 1`)
	require.Regexp(t, regexp.MustCompile(`chatterly_api_request_duration_seconds_bucket\{method="GET",route="/me",status="401",le="[0-9.]+"\} 1`), body)
	require.Contains(t, body, "go_goroutines", "the runtime collectors are registered")
	require.Contains(t, body, "process_resident_memory_bytes")
	require.Contains(t, body, `chatterly_api_db_pool_max_connections{pool="primary"} 32`)
	require.Contains(t, body, `chatterly_api_redis_commands_total{client="redis"}`)
	require.Contains(t, body, `chatterly_api_events_published_total{outcome="appended"} 0`)
	require.Contains(t, body, "chatterly_build_info{")
	status, _ = s.Admin(t, "/debug/pprof/")
	require.Equal(t, http.StatusNotFound, status, "no profiles unless API_PPROF is set")

	p := apitest.Start(t, map[string]string{"API_PPROF": "1"})
	status, body = p.Admin(t, "/debug/pprof/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine")
}

// public are the only routes a caller may use without a token.
var public = map[string]bool{
	"POST /auth/register": true,
	"POST /auth/login":    true,
	"POST /auth/refresh":  true,
	"GET /healthz":        true,
	"GET /readyz":         true,
	// A signed download URL carries its own proof (api/file): whoever
	// holds it fetches the file until it expires, as with a presigned URL
	// of a store, while its signer may still see the file.
	"GET /files/:id/blob": true,
	// Avatars are as public as the user resources that name them.
	"GET /avatars/:id": true,
}

// Every route but the public ones refuses a caller without a token, or
// with a bad one: this walks the router's own table, so a route another
// component adds is held to the rule too.
func TestEveryOtherRouteRequiresAToken(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	routes := s.Server.Router().Routes()
	for p := range public {
		require.Contains(t, routes, p)
	}
	param := regexp.MustCompile(`:[a-z_]+`)
	checked := 0
	for _, rt := range routes {
		if public[rt] {
			continue
		}
		method, pattern, _ := strings.Cut(rt, " ")
		path := param.ReplaceAllString(pattern, "1")
		for _, tok := range []string{"", "not-a-token"} {
			r := s.Do(method, path, tok, nil)
			require.Equal(t, http.StatusUnauthorized, r.Status, "%s with token %q: %s", rt, tok, r.Body)
			require.Equal(t, "unauthorized", r.Code(), rt)
		}
		checked++
	}
	require.GreaterOrEqual(t, checked, 4, "at least logout, logout everywhere, /me and /me/password")
}

// A browser on the local web client's origin may call the api: the
// preflight is answered without a token, and answers carry the grant.
func TestCORSForTheLocalWebClient(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	for _, origin := range []string{"http://localhost:3000", "http://127.0.0.1:5173"} {
		r := s.DoWith("OPTIONS", "/auth/login", "", nil, "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		})
		require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
		require.Equal(t, origin, r.Header.Get("Access-Control-Allow-Origin"))
		require.Contains(t, r.Header.Get("Access-Control-Allow-Methods"), "POST")
	}
	r := s.DoWith("OPTIONS", "/auth/login", "", nil, "", map[string]string{"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"})
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

	custom := apitest.Start(t, map[string]string{"ALLOWED_ORIGINS": "https://chat.example.com"})
	r = custom.DoWith("GET", "/healthz", "", nil, "", map[string]string{"Origin": "https://chat.example.com"})
	require.Equal(t, "https://chat.example.com", r.Header.Get("Access-Control-Allow-Origin"))
	r = custom.DoWith("GET", "/healthz", "", nil, "", map[string]string{"Origin": "http://localhost:3000"})
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), "ALLOWED_ORIGINS replaces the defaults")
}
