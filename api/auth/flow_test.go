package auth_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// The acceptance flow: register → login → /me → logout → /me answers 201,
// 200, 200, 204, 401.
func TestRegisterLoginMeLogoutMe(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)

	r := s.Do("POST", "/auth/register", "", map[string]string{
		"email": "Ada@Example.com", "username": "Ada.Lovelace", "password": "correct horse", "display_name": "Ada",
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var reg session
	r.JSON(t, &reg)
	require.Equal(t, "ada.lovelace", reg.User.Username, "usernames are case-insensitive, kept lowercase")
	require.Equal(t, "Ada", reg.User.DisplayName)
	require.Equal(t, "Ada@Example.com", reg.User.Email)
	require.NotEmpty(t, reg.Token)
	require.NotEmpty(t, reg.RefreshToken)

	in := login(t, s, "ada@example.com", "correct horse")
	require.Equal(t, reg.User.ID, in.User.ID)
	require.NotEqual(t, reg.Token, in.Token)

	r = s.Do("GET", "/me", in.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	me := r.Map(t)
	require.Equal(t, reg.User.ID, me["id"])
	require.Equal(t, "ada.lovelace", me["username"])

	r = s.Do("DELETE", "/auth/logout", in.Token, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)

	r = s.Do("GET", "/me", in.Token, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	require.Equal(t, "unauthorized", r.Code())
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))

	// Only the session that logged out ended: the registration's own
	// session still works.
	r = s.Do("GET", "/me", reg.Token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
}

// Registrations racing for one username: the pre-check lets them all
// through to the password hash, and the unique index decides. Exactly one
// wins; the others get the same 409 the pre-check gives.
func TestConcurrentRegistrationsOfOneName(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_REGISTER_PER_ADDR": "100", "PASSWORD_HASH_CONCURRENCY": "8"})
	const n = 6
	statuses := make(chan *apitest.Response, n)
	for i := range n {
		go func() {
			statuses <- s.Do("POST", "/auth/register", "", map[string]string{
				"email": fmt.Sprintf("racer%d@example.com", i), "username": "racer", "password": "racer password",
			})
		}()
	}
	won := 0
	for range n {
		r := <-statuses
		switch r.Status {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
			require.Equal(t, "already_exists", r.Code())
			require.Contains(t, string(r.Body), `"field":"username"`)
		default:
			t.Fatalf("unexpected %d: %s", r.Status, r.Body)
		}
	}
	require.Equal(t, 1, won)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM users"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM auth_sessions"), "a losing registration leaves no session behind")
}
