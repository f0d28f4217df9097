package auth_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// Wrong passwords are counted per account and client address: a stranger
// who exhausts their attempts on an account is held off with a growing
// Retry-After, while the owner's correct password, from an address that
// has not been failing, signs in.
func TestAStrangerCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{
		"LOGIN_FREE_FAILURES": "3",
		// Long waits: no step of the test can outlast one.
		"LOGIN_BACKOFF": "1m", "LOGIN_BACKOFF_MAX": "10h",
	})
	register(t, s, "owner", "owner password")
	stranger := s.From("127.0.0.2")
	attempt := func(st *apitest.Stack, loginName, password string) *apitest.Response {
		return st.Do("POST", "/auth/login", "", map[string]string{"login": loginName, "password": password})
	}
	retryAfter := func(r *apitest.Response) int {
		t.Helper()
		require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
		require.Equal(t, "rate_limited", r.Code())
		n, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err)
		return n
	}

	for range 3 {
		r := attempt(stranger, "owner", "guess password")
		require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	}
	last := 0
	for i := range 5 {
		n := retryAfter(attempt(stranger, "owner", "another guess"))
		require.Greater(t, n, last, "attempt %d while held off", i)
		last = n
	}
	// Held off means held off: even the right password is not tried.
	last = max(last, retryAfter(attempt(stranger, "owner", "owner password")))

	// The owner signs in, from their usual address and from a new one.
	login(t, s, "owner", "owner password")
	login(t, s.From("127.0.0.3"), "OWNER", "owner password")
	// That frees no one else: the stranger keeps waiting longer.
	require.Greater(t, retryAfter(attempt(stranger, "owner", "guess again")), last)

	// A name that is no account is held off alike (no tell which exist).
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, attempt(stranger, "nobody", "guess password").Status)
	}
	retryAfter(attempt(stranger, "nobody", "guess password"))

	// The owner mistyping is forgiven by their next success.
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, attempt(s, "owner", "owner passwrod").Status)
	}
	login(t, s, "owner", "owner password")
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, attempt(s, "owner", "owner passwrod").Status)
	}
	login(t, s, "owner", "owner password")
}
