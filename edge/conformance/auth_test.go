package conformance

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/require"
)

// forge signs a token with priv, letting a test break one rule at a time.
func forge(t *testing.T, priv ed25519.PrivateKey, kid string, build func(*jwt.Builder) *jwt.Builder) string {
	t.Helper()
	k, err := jwk.Import(priv)
	require.NoError(t, err)
	require.NoError(t, k.Set(jwk.KeyIDKey, kid))
	b := jwt.NewBuilder().Subject("1").JwtID("j1").IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).Claim("sid", "11")
	tok, err := build(b).Build()
	require.NoError(t, err)
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), k))
	require.NoError(t, err)
	return string(signed)
}

// expectDisconnect reads the first message and checks it is a disconnect
// with reason and reconnect false, and that the edge then closes.
func expectDisconnect(t *testing.T, c *cable.Conn, reason string, reconnect bool) {
	t.Helper()
	m, err := c.Next(5*time.Second, true)
	require.NoError(t, err)
	require.Equal(t, "disconnect", m.Type, string(m.Raw))
	require.Equal(t, reason, m.Reason, string(m.Raw))
	require.NotNil(t, m.Reconnect)
	require.Equal(t, reconnect, *m.Reconnect)
	_, err = c.Next(5*time.Second, true)
	require.ErrorIs(t, err, cable.ErrClosed)
}

func TestEveryBadTokenIsRefused(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	priv, err := token.LoadSigningKey(st.keyDir, false)
	require.NoError(t, err)
	kid := token.KeyID(priv.Public().(ed25519.PublicKey))
	_, other, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	good := st.token(1, 11)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"2","sid":"11","jti":"x","exp":9999999999}`)) + "." + parts[2]

	require.NoError(t, token.NewDenylist(st.rdb, st.keys).Revoke(context.Background(), 99, time.Now().Add(time.Hour)))
	cases := map[string]struct {
		tok    string
		reason string
	}{
		"missing":     {"", "unauthorized"},
		"garbage":     {"not.a.jwt", "unauthorized"},
		"other key":   {forge(t, other, kid, func(b *jwt.Builder) *jwt.Builder { return b }), "unauthorized"},
		"unknown kid": {forge(t, priv, "nope", func(b *jwt.Builder) *jwt.Builder { return b }), "unauthorized"},
		"tampered":    {tampered, "unauthorized"},
		"no session":  {forge(t, priv, kid, func(b *jwt.Builder) *jwt.Builder { return b.Claim("sid", "") }), "unauthorized"},
		"revoked":     {st.token(1, 99), "unauthorized"},
		"expired":     {forge(t, priv, kid, func(b *jwt.Builder) *jwt.Builder { return b.Expiration(time.Now().Add(-time.Minute)) }), "token_expired"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			conn := e.dialRaw(cable.Request{Token: c.tok})
			expectDisconnect(t, conn, c.reason, false)
		})
	}
	require.Equal(t, float64(1), e.metric("chatterly_edge_handshakes_total", `outcome="token_expired"`))
	require.Equal(t, float64(len(cases)-1), e.metric("chatterly_edge_handshakes_total", `outcome="unauthorized"`))
	require.NotContains(t, e.proc.Log.String(), parts[2], "tokens never appear in logs")
}

// TestRevocationDisconnectsWithinASecond revokes a session the way the
// api does (denylist, then session.revoked on the user's topic): every
// socket of that session, subscribed or not, is disconnected within a
// second; the user's other session is untouched.
func TestRevocationDisconnectsWithinASecond(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	e := st.start(nil)
	st.member(7, 1)
	subscribed := e.dialSession(st, 1, 11)
	require.Equal(t, "confirm_subscription", subscribe(t, subscribed, convIdent(7)))
	idle := e.dialSession(st, 1, 11)
	other := e.dialSession(st, 1, 12)

	start := time.Now()
	require.NoError(t, token.NewDenylist(st.rdb, st.keys).Revoke(context.Background(), 11, time.Now().Add(time.Hour)))
	st.publish(rkey.UserTopic(1), event.Envelope{Type: event.SessionRevoked,
		Data: []byte(`{"user_id":"1","sid":"11"}`)})
	for _, c := range []*cable.Conn{subscribed, idle} {
		expectDisconnect(t, c, "unauthorized", false)
	}
	require.Less(t, time.Since(start), time.Second)
	// Its next ping comes at most one and a half intervals (4.5 s) after
	// the last; the official client waits two (6 s) before it gives up.
	m, err := other.Next(6*time.Second, false)
	require.NoError(t, err)
	require.Equal(t, "ping", m.Type, "the other session keeps its socket")
	// And a new socket of the revoked session is refused.
	expectDisconnect(t, e.dialRaw(cable.Request{Token: st.token(1, 11)}), "unauthorized", false)
	_ = id.ID(0)
}
