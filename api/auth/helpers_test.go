package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// session is a register/login/refresh answer.
type session struct {
	User struct {
		ID          string `json:"id"`
		Username    string `json:"username"`
		DisplayName string `json:"display_name"`
		Email       string `json:"email"`
	} `json:"user"`
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token"`
}

func (s session) userID(t *testing.T) id.ID {
	u, err := id.Parse(s.User.ID)
	require.NoError(t, err)
	return u
}

func (s session) claims(t *testing.T, st *apitest.Stack) token.Claims {
	cl, err := st.Deps.Checker.Verifier.Verify(s.Token)
	require.NoError(t, err)
	return cl
}

func register(t *testing.T, s *apitest.Stack, username, password string) session {
	t.Helper()
	r := s.Do("POST", "/auth/register", "", map[string]string{
		"email": username + "@example.com", "username": username, "password": password,
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var out session
	r.JSON(t, &out)
	return out
}

func login(t *testing.T, s *apitest.Stack, loginName, password string) session {
	t.Helper()
	r := s.Do("POST", "/auth/login", "", map[string]string{"login": loginName, "password": password})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out session
	r.JSON(t, &out)
	require.Equal(t, "Bearer "+out.Token, r.Header.Get("Authorization"))
	return out
}

func refresh(s *apitest.Stack, rt string) *apitest.Response {
	return s.Do("POST", "/auth/refresh", "", map[string]string{"refresh_token": rt})
}

// refreshed refreshes rt and requires a new pair.
func refreshed(t *testing.T, s *apitest.Stack, rt string) session {
	t.Helper()
	r := refresh(s, rt)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out session
	r.JSON(t, &out)
	return out
}

// count runs a COUNT(*) query on the stack's database.
func count(t *testing.T, s *apitest.Stack, query string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DBURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, query, args...).Scan(&n))
	return n
}

// expiredToken is a token the stack's own key signed, expired a minute ago.
func expiredToken(t *testing.T, s *apitest.Stack, user, sid id.ID) string {
	priv, err := token.LoadSigningKey(s.KeyDir, false)
	require.NoError(t, err)
	iss, err := token.NewIssuer(priv, -time.Minute)
	require.NoError(t, err)
	raw, _, err := iss.Issue(user, sid)
	require.NoError(t, err)
	return raw
}

// foreignToken is signed by a key the api does not know, under the kid of
// the key it does know.
func foreignToken(t *testing.T, s *apitest.Stack, user, sid id.ID) string {
	dir := t.TempDir()
	require.NoError(t, token.GenerateKey(dir))
	priv, err := token.LoadSigningKey(dir, false)
	require.NoError(t, err)
	raw, _, err := mustIssuer(t, priv).Issue(user, sid)
	require.NoError(t, err)
	// Swap the header for one naming the real key's kid.
	pubs, err := token.LoadPublicKeys(s.KeyDir)
	require.NoError(t, err)
	var kid string
	for k := range pubs {
		kid = k
	}
	return header(t, map[string]string{"alg": "EdDSA", "kid": kid}) + raw[indexDot(raw):]
}

func mustIssuer(t *testing.T, priv ed25519.PrivateKey) *token.Issuer {
	iss, err := token.NewIssuer(priv, time.Minute)
	require.NoError(t, err)
	return iss
}

// unsignedToken is an "alg: none" token with good claims.
func unsignedToken(t *testing.T, user, sid id.ID) string {
	return header(t, map[string]string{"alg": "none", "typ": "JWT"}) + "." + claims(t, user, sid) + "."
}

// hmacToken is HS256-signed with the api's public key as the secret: the
// classic algorithm-confusion forgery.
func hmacToken(t *testing.T, s *apitest.Stack, user, sid id.ID) string {
	pubs, err := token.LoadPublicKeys(s.KeyDir)
	require.NoError(t, err)
	var kid string
	var pub ed25519.PublicKey
	for k, p := range pubs {
		kid, pub = k, p
	}
	signing := header(t, map[string]string{"alg": "HS256", "kid": kid}) + "." + claims(t, user, sid)
	m := hmac.New(sha256.New, pub)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func header(t *testing.T, h map[string]string) string {
	b, err := json.Marshal(h)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func claims(t *testing.T, user, sid id.ID) string {
	b, err := json.Marshal(map[string]any{
		"sub": user.String(), "sid": sid.String(), "jti": "x1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func indexDot(s string) int {
	for i := range len(s) {
		if s[i] == '.' {
			return i
		}
	}
	return len(s)
}
