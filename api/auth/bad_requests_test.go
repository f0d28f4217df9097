package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// TestBadRequests sends requests that must all be refused, in order (some
// depend on the state earlier ones leave), and checks each status and
// problem code; then that none of them wrote a row it should not have.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{
		"LOGIN_FREE_FAILURES":    "3",
		"LOGIN_BACKOFF":          "1h", // held off for the rest of the test
		"LOGIN_BACKOFF_MAX":      "10h",
		"RATE_LOGIN_PER_ADDR":    "1000",
		"RATE_REGISTER_PER_ADDR": "1000",
		// Reuse ends a session at once (the grace has its own tests).
		"REFRESH_REUSE_GRACE": "0s",
	})
	alice := register(t, s, "alice", "alice password")
	register(t, s, "bob", "bob password")
	aliceID, aliceSID := alice.userID(t), alice.claims(t, s).SID

	// A second session of alice's whose first refresh token is rotated:
	// presenting it again is reuse.
	stolen := login(t, s, "alice", "alice password")
	r := refresh(s, stolen.RefreshToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var successor session
	r.JSON(t, &successor)

	// A third session, logged out: its token is revoked.
	gone := login(t, s, "alice", "alice password")
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/auth/logout", gone.Token, nil).Status)

	valid := func(over map[string]any) map[string]any {
		m := map[string]any{"email": "carol@example.com", "username": "carol", "password": "carol password"}
		for k, v := range over {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	const reg, json = "/auth/register", "application/json"
	cases := []struct {
		name        string
		method      string
		path        string
		tok         string
		body        any
		contentType string
		status      int
		code        string
	}{
		{"malformed JSON", "POST", reg, "", `{"email":`, json, 400, "bad_request"},
		{"not an object", "POST", reg, "", `["carol"]`, json, 400, "bad_request"},
		{"wrong type", "POST", reg, "", valid(map[string]any{"email": 5}), json, 400, "bad_request"},
		{"unknown field", "POST", reg, "", valid(map[string]any{"admin": true}), json, 400, "bad_request"},
		{"data after the JSON value", "POST", reg, "", `{"email":"c@example.com"} {}`, json, 400, "bad_request"},
		{"empty body", "POST", reg, "", "", json, 400, "bad_request"},
		{"null body", "POST", reg, "", "null", json, 400, "validation_failed"},
		{"missing email", "POST", reg, "", valid(map[string]any{"email": nil}), json, 400, "validation_failed"},
		{"missing username", "POST", reg, "", valid(map[string]any{"username": nil}), json, 400, "validation_failed"},
		{"missing password", "POST", reg, "", valid(map[string]any{"password": nil}), json, 400, "validation_failed"},
		{"email without a domain", "POST", reg, "", valid(map[string]any{"email": "carol@localhost"}), json, 400, "validation_failed"},
		{"email with a space", "POST", reg, "", valid(map[string]any{"email": "ca rol@example.com"}), json, 400, "validation_failed"},
		{"username too short", "POST", reg, "", valid(map[string]any{"username": "ca"}), json, 400, "validation_failed"},
		{"username too long", "POST", reg, "", valid(map[string]any{"username": strings.Repeat("c", 33)}), json, 400, "validation_failed"},
		{"username with a bad character", "POST", reg, "", valid(map[string]any{"username": "car-ol"}), json, 400, "validation_failed"},
		{"password too short", "POST", reg, "", valid(map[string]any{"password": "short"}), json, 400, "validation_failed"},
		{"password over 256 bytes", "POST", reg, "", valid(map[string]any{"password": strings.Repeat("p", 257)}), json, 400, "validation_failed"},
		{"text/plain body", "POST", reg, "", `{"email":"c@example.com"}`, "text/plain", 415, "unsupported_media_type"},
		{"form body", "POST", reg, "", "email=c%40example.com", "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"no content type", "POST", reg, "", `{"email":"c@example.com"}`, "", 415, "unsupported_media_type"},
		{"body over the route limit", "POST", reg, "", valid(map[string]any{"display_name": strings.Repeat("x", 9<<10)}), json, 413, "payload_too_large"},
		{"duplicate email", "POST", reg, "", valid(map[string]any{"email": "ALICE@example.com"}), json, 409, "already_exists"},
		{"duplicate username", "POST", reg, "", valid(map[string]any{"username": "Bob"}), json, 409, "already_exists"},

		{"login with a wrong password", "POST", "/auth/login", "", map[string]string{"login": "bob", "password": "wrong password"}, json, 401, "invalid_credentials"},
		{"login to an unknown account", "POST", "/auth/login", "", map[string]string{"login": "nobody", "password": "bob password"}, json, 401, "invalid_credentials"},
		{"login without a password", "POST", "/auth/login", "", map[string]string{"login": "bob"}, json, 400, "validation_failed"},
		{"login with a number", "POST", "/auth/login", "", `{"login":"bob","password":12345678}`, json, 400, "bad_request"},
		{"second wrong password", "POST", "/auth/login", "", map[string]string{"login": "bob@example.com", "password": "wrong password"}, json, 401, "invalid_credentials"},
		{"third wrong password", "POST", "/auth/login", "", map[string]string{"login": "BOB", "password": "wrong password"}, json, 401, "invalid_credentials"},
		{"throttled login, right password", "POST", "/auth/login", "", map[string]string{"login": "bob", "password": "bob password"}, json, 429, "rate_limited"},

		{"refresh with an unknown token", "POST", "/auth/refresh", "", map[string]string{"refresh_token": "not-a-token"}, json, 401, "unauthorized"},
		{"refresh without a token", "POST", "/auth/refresh", "", map[string]string{}, json, 400, "validation_failed"},
		{"reused refresh token", "POST", "/auth/refresh", "", map[string]string{"refresh_token": stolen.RefreshToken}, json, 401, "refresh_token_reused"},
		{"successor of a reused token", "POST", "/auth/refresh", "", map[string]string{"refresh_token": successor.RefreshToken}, json, 401, "unauthorized"},
		{"refresh of a logged-out session", "POST", "/auth/refresh", "", map[string]string{"refresh_token": gone.RefreshToken}, json, 401, "unauthorized"},

		{"no token", "GET", "/me", "", nil, "", 401, "unauthorized"},
		{"garbage token", "GET", "/me", "garbage", nil, "", 401, "unauthorized"},
		{"tampered signature", "GET", "/me", alice.Token[:len(alice.Token)-4] + "AAAA", nil, "", 401, "unauthorized"},
		{"token of another key", "GET", "/me", foreignToken(t, s, aliceID, aliceSID), nil, "", 401, "unauthorized"},
		{"unsigned token (alg none)", "GET", "/me", unsignedToken(t, aliceID, aliceSID), nil, "", 401, "unauthorized"},
		{"HS256 with the public key", "GET", "/me", hmacToken(t, s, aliceID, aliceSID), nil, "", 401, "unauthorized"},
		{"expired token", "GET", "/me", expiredToken(t, s, aliceID, aliceSID), nil, "", 401, "token_expired"},
		{"logged-out token", "GET", "/me", gone.Token, nil, "", 401, "unauthorized"},
		{"token of a reused session", "GET", "/me", successor.Token, nil, "", 401, "unauthorized"},
		{"logout without a token", "DELETE", "/auth/logout", "", nil, "", 401, "unauthorized"},
		{"wrong current password", "PUT", "/me/password", alice.Token, map[string]string{"current_password": "not it at all", "new_password": "new password"}, json, 400, "validation_failed"},
		{"new password too short", "PUT", "/me/password", alice.Token, map[string]string{"current_password": "alice password", "new_password": "short"}, json, 400, "validation_failed"},
		{"unknown route", "GET", "/nope", alice.Token, nil, "", 404, "not_found"},
		{"wrong method", "GET", "/auth/login", "", nil, "", 405, "method_not_allowed"},
	}
	require.GreaterOrEqual(t, len(cases), 25)
	for _, tc := range cases {
		r := s.DoWith(tc.method, tc.path, tc.tok, tc.body, tc.contentType, nil)
		require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
		require.Equal(t, tc.code, r.Code(), "%s: %s", tc.name, r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), tc.name)
		if tc.status == http.StatusTooManyRequests {
			require.NotEmpty(t, r.Header.Get("Retry-After"), tc.name)
		}
	}

	// Nothing reached the database that should not have: two users, and
	// only the sessions made above (alice's registration, stolen, gone;
	// bob's registration). No failed login made one.
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM users"))
	require.Equal(t, 4, count(t, s, "SELECT count(*) FROM auth_sessions"))
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM auth_sessions WHERE revoked_at IS NULL"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM auth_sessions WHERE revoked_reason = 'refresh_reused'"))
	// alice's password is unchanged: her session and password still work.
	require.Equal(t, http.StatusOK, s.Do("GET", "/me", alice.Token, nil).Status)
	login(t, s, "alice", "alice password")
}
