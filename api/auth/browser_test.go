package auth_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// webOrigin is on the default allow-list (the local web client).
const webOrigin = "http://127.0.0.1:3000"

// refreshCookie finds the refresh cookie a response sets (nil when none).
func refreshCookie(r *apitest.Response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "chatterly_refresh" {
			return c
		}
	}
	return nil
}

// requireSessionCookie checks the cookie's attributes and returns its value.
func requireSessionCookie(t *testing.T, r *apitest.Response, secure bool) string {
	t.Helper()
	c := refreshCookie(r)
	require.NotNil(t, c, "a browser gets the refresh cookie: %v", r.Header.Values("Set-Cookie"))
	require.NotEmpty(t, c.Value)
	require.True(t, c.HttpOnly, "no script may read it")
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Equal(t, "/auth", c.Path)
	require.Equal(t, secure, c.Secure)
	require.Equal(t, 30*24*3600, c.MaxAge, "it lasts as long as the session (REFRESH_TOKEN_TTL)")
	var body map[string]any
	r.JSON(t, &body)
	require.NotContains(t, body, "refresh_token", "a browser never reads the refresh token")
	require.NotEmpty(t, body["token"])
	return c.Value
}

// browser sends a request the way the web client's page does.
func browser(s *apitest.Stack, method, path, tok string, body any, hdr map[string]string) *apitest.Response {
	s.T.Helper()
	h := map[string]string{"Origin": webOrigin}
	for k, v := range hdr {
		h[k] = v
	}
	return s.DoWith(method, path, tok, body, "application/json", h)
}

// cookieRefresh is the page's refresh: empty body, the cookie, an Origin.
func cookieRefresh(s *apitest.Stack, cookie, origin string) *apitest.Response {
	s.T.Helper()
	h := map[string]string{"Cookie": "chatterly_refresh=" + cookie}
	if origin != "" {
		h["Origin"] = origin
	}
	return s.DoWith("POST", "/auth/refresh", "", nil, "", h)
}

func TestBrowserSessionLivesInAnHttpOnlyCookie(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)

	r := browser(s, "POST", "/auth/register", "", map[string]string{
		"email": "pia@example.com", "username": "pia", "password": "pia password"}, nil)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	c0 := requireSessionCookie(t, r, false)
	require.Equal(t, webOrigin, r.Header.Get("Access-Control-Allow-Origin"), "the exact origin, never *")
	require.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, r.Header.Values("Vary"), "Origin")

	r = browser(s, "POST", "/auth/login", "", map[string]string{"login": "pia", "password": "pia password"}, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	requireSessionCookie(t, r, false)

	// A reload: no token in the page, only the cookie.
	r = cookieRefresh(s, c0, webOrigin)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	c1 := requireSessionCookie(t, r, false)
	require.NotEqual(t, c0, c1, "the cookie rotates like the JSON token")
	var out session
	r.JSON(t, &out)
	require.Equal(t, http.StatusOK, s.Do("GET", "/me", out.Token, nil).Status)
	require.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))

	// The cookie token is an ordinary refresh token of the session.
	require.Equal(t, http.StatusOK, cookieRefresh(s, c1, webOrigin).Status)
}

// Behind a TLS-terminating proxy (X-Forwarded-Proto: https) the cookie is
// Secure.
func TestBrowserSessionCookieIsSecureOverHTTPS(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"ALLOWED_ORIGINS": "https://chat.example"})
	r := s.DoWith("POST", "/auth/register", "", map[string]string{
		"email": "quin@example.com", "username": "quin", "password": "quin password"}, "application/json",
		map[string]string{"Origin": "https://chat.example", "X-Forwarded-Proto": "https"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	c := requireSessionCookie(t, r, true)

	r = s.DoWith("POST", "/auth/refresh", "", nil, "", map[string]string{
		"Origin": "https://chat.example", "X-Forwarded-Proto": "https, http", "Cookie": "chatterly_refresh=" + c})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	requireSessionCookie(t, r, true)
}

// Other clients (no Origin, or one not on the list) keep the JSON token
// and get no cookie; a cookie refresh needs an allowed Origin (CSRF).
func TestCookieRefreshNeedsAnAllowedOrigin(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "rita", "rita password")
	require.NotEmpty(t, a.RefreshToken)

	r := s.DoWith("POST", "/auth/login", "", map[string]string{"login": "rita", "password": "rita password"},
		"application/json", map[string]string{"Origin": "http://evil.test"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Nil(t, refreshCookie(r), "a foreign origin gets no cookie")
	require.Empty(t, r.Header.Get("Access-Control-Allow-Credentials"))
	var foreign session
	r.JSON(t, &foreign)
	require.NotEmpty(t, foreign.RefreshToken)

	r = browser(s, "POST", "/auth/login", "", map[string]string{"login": "rita", "password": "rita password"}, nil)
	c := requireSessionCookie(t, r, false)

	for _, origin := range []string{"", "http://evil.test", "null"} {
		r = cookieRefresh(s, c, origin)
		require.Equal(t, http.StatusForbidden, r.Status, "origin %q: %s", origin, r.Body)
		require.Equal(t, "forbidden", r.Code())
		require.Nil(t, refreshCookie(r))
	}
	r = s.DoWith("POST", "/auth/refresh", "", nil, "", map[string]string{"Origin": webOrigin})
	require.Equal(t, http.StatusUnauthorized, r.Status, "no cookie: %s", r.Body)

	// The refused attempts spent nothing: the cookie still works.
	require.Equal(t, http.StatusOK, cookieRefresh(s, c, webOrigin).Status)
}

func TestLogoutClearsTheCookie(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	register(t, s, "sara", "sara password")
	for _, path := range []string{"/auth/logout", "/auth/sessions"} {
		r := browser(s, "POST", "/auth/login", "", map[string]string{"login": "sara", "password": "sara password"}, nil)
		c := requireSessionCookie(t, r, false)
		var in session
		r.JSON(t, &in)

		r = browser(s, "DELETE", path, in.Token, nil, nil)
		require.Equal(t, http.StatusNoContent, r.Status, "%s: %s", path, r.Body)
		gone := refreshCookie(r)
		require.NotNil(t, gone, "%s clears the cookie", path)
		require.Empty(t, gone.Value)
		require.Equal(t, "/auth", gone.Path)
		require.True(t, gone.HttpOnly)
		require.True(t, gone.MaxAge < 0 || gone.Expires.Unix() < 1e9+3e8, "expired: %v", r.Header.Values("Set-Cookie"))

		r = cookieRefresh(s, c, webOrigin)
		require.Equal(t, http.StatusUnauthorized, r.Status, "%s ends the cookie's session: %s", path, r.Body)
	}
}

// Within REFRESH_REUSE_GRACE a rotated refresh token gets the successor
// back (two tabs, a reload during a refresh); the session lives on.
func TestReuseWithinGraceReturnsTheSuccessor(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "tess", "tess password")
	sid := a.claims(t, s).SID

	b := refreshed(t, s, a.RefreshToken)
	again := refreshed(t, s, a.RefreshToken) // within the grace
	require.Equal(t, b.RefreshToken, again.RefreshToken, "the same successor")
	require.Equal(t, sid, again.claims(t, s).SID)
	require.Equal(t, http.StatusOK, s.Do("GET", "/me", again.Token, nil).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/me", b.Token, nil).Status)
	require.Zero(t, count(t, s, "SELECT count(*) FROM auth_sessions WHERE revoked_at IS NOT NULL"))

	// A tab that missed two rotations lands on the current token.
	c := refreshed(t, s, b.RefreshToken)
	again = refreshed(t, s, a.RefreshToken)
	require.Equal(t, c.RefreshToken, again.RefreshToken)

	// The successor still rotates once, normally.
	refreshed(t, s, c.RefreshToken)
	require.Equal(t, 4, count(t, s, "SELECT count(*) FROM refresh_tokens WHERE session_id = $1", sid))
}

// Outside the grace, reuse still ends the session.
func TestReuseOutsideGraceEndsTheSession(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "ugo", "ugo password")
	b := refreshed(t, s, a.RefreshToken)

	// The rotation happened 11 s ago, past the 10 s default grace.
	require.Equal(t, 1, count(t, s, `WITH aged AS (UPDATE refresh_tokens SET rotated_at = rotated_at - interval '11 seconds'
WHERE rotated_at IS NOT NULL AND session_id = $1 RETURNING 1) SELECT count(*) FROM aged`, a.claims(t, s).SID))
	r := refresh(s, a.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	require.Equal(t, "refresh_token_reused", r.Code())
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM auth_sessions WHERE revoked_reason = 'refresh_reused'"))
	require.Len(t, revokedEvents(t, s, a.userID(t)), 1)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/me", b.Token, nil).Status, "the successor's tokens end too")
	require.Equal(t, http.StatusUnauthorized, refresh(s, b.RefreshToken).Status)
}

// Two tabs reloading together send the same cookie at once: both stay
// signed in, and both end up holding the same refresh cookie.
func TestConcurrentRefreshWithinGrace(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	r := browser(s, "POST", "/auth/register", "", map[string]string{
		"email": "vera@example.com", "username": "vera", "password": "vera password"}, nil)
	c := requireSessionCookie(t, r, false)

	var wg sync.WaitGroup
	out := make([]*apitest.Response, 4)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = cookieRefresh(s, c, webOrigin)
		}()
	}
	wg.Wait()
	var next string
	for _, r := range out {
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		v := requireSessionCookie(t, r, false)
		if next == "" {
			next = v
		}
		require.Equal(t, next, v, "every tab gets the one successor")
	}
	require.Zero(t, count(t, s, "SELECT count(*) FROM auth_sessions WHERE revoked_at IS NOT NULL"))
	require.Equal(t, http.StatusOK, cookieRefresh(s, next, webOrigin).Status)
}
