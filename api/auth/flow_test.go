package auth_test

import (
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
