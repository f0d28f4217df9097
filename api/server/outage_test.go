package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/tcpproxy"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// unavailableWithin is the longest a request may take to be refused while
// a dependency does not answer: the call deadline (DEPENDENCY_TIMEOUT, 1s)
// and change.
const unavailableWithin = 2 * time.Second

// getMe is GET /me with tok on a client that gives up after 10 s (a hung
// request fails the test instead of hanging it), and how long it took.
func getMe(t *testing.T, s *apitest.Stack, tok string) (*http.Response, time.Duration) {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+"/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	took := time.Since(start)
	require.NoError(t, err, "GET /me hung for %s", took)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, took
}

// requireUnavailable asserts a prompt 503 with Retry-After: 1.
func requireUnavailable(t *testing.T, resp *http.Response, took time.Duration, what string) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, what)
	require.Equal(t, "1", resp.Header.Get("Retry-After"), what)
	require.Less(t, took, unavailableWithin, what)
}

// While Redis does not answer, a token whose session the api has not
// checked before is refused 503 within 2 s (the denylist fails closed),
// whether Redis hangs (paused: connections open, nothing answers) or is
// gone (connections refused); a session checked before is still answered
// from rueidis's client-side cache while the connection holds. Before the
// call deadline, such a request hung for the whole outage.
func TestRedisOutageIsUnavailableWithinTwoSeconds(t *testing.T) {
	t.Parallel()
	rs := redistest.StartServer(t)
	s := apitest.Start(t, map[string]string{"REDIS_URL": rs.URL, "DEPENDENCY_TIMEOUT": "1s"})
	seen := convtest.NewUser(t, s, "seen")
	fresh := convtest.NewUser(t, s, "fresh")
	resp, _ := getMe(t, s, seen.Token)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	rs.Pause()
	resp, took := getMe(t, s, fresh.Token)
	requireUnavailable(t, resp, took, "uncached session, Redis paused")
	resp, _ = getMe(t, s, seen.Token)
	require.Equal(t, http.StatusOK, resp.StatusCode, "a cached answer still serves")

	rs.Resume()
	rs.Stop()
	resp, took = getMe(t, s, fresh.Token)
	requireUnavailable(t, resp, took, "uncached session, Redis stopped")

	rs.Start()
	require.Eventually(t, func() bool {
		resp, _ := getMe(t, s, fresh.Token)
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "served again once Redis is back")
}

// While Postgres does not answer (paused) or refuses connections (down),
// or after it ended the api's connections (an admin shutdown), a request
// that needs it is 503 with Retry-After, promptly, never 500 and never a
// hang; it is served again when Postgres is back.
func TestPostgresOutageIsUnavailableNever500(t *testing.T) {
	t.Parallel()
	px, dbURL := tcpproxy.Through(t, pgtest.URL(t))
	s := apitest.Start(t, map[string]string{"DATABASE_URL": dbURL, "DEPENDENCY_TIMEOUT": "1s"})
	u := convtest.NewUser(t, s, "pat")
	resp, _ := getMe(t, s, u.Token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	servedAgain := func(what string) {
		require.Eventually(t, func() bool {
			resp, _ := getMe(t, s, u.Token)
			require.NotEqual(t, http.StatusInternalServerError, resp.StatusCode, what)
			return resp.StatusCode == http.StatusOK
		}, 10*time.Second, 50*time.Millisecond, what)
	}

	px.Pause()
	resp, took := getMe(t, s, u.Token)
	requireUnavailable(t, resp, took, "Postgres paused")
	px.Resume()
	servedAgain("after the pause")

	px.Down()
	resp, took = getMe(t, s, u.Token)
	requireUnavailable(t, resp, took, "Postgres refusing connections")
	px.Up()
	servedAgain("after the refusal")

	// Admin shutdown: every connection of the api ended by the server.
	_, err := s.Deps.DB.Exec(t.Context(), `SELECT 1`) // at least one pooled connection
	require.NoError(t, err)
	admin, err := pgx.Connect(t.Context(), pgtest.AdminURL(t))
	require.NoError(t, err)
	defer admin.Close(t.Context())
	dbu, err := url.Parse(dbURL)
	require.NoError(t, err)
	var ended int
	require.NoError(t, admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = $1`, strings.TrimPrefix(dbu.Path, "/")).Scan(&ended))
	require.Positive(t, ended)
	resp, took = getMe(t, s, u.Token)
	require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.StatusCode)
	require.Less(t, took, unavailableWithin)
	servedAgain("after the admin shutdown")
}
