package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/require"
)

// keys is a key directory with one generated key, its issuer and a
// verifier with a cache of cacheSize.
type keys struct {
	dir  string
	iss  *Issuer
	ver  *Verifier
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func setup(t testing.TB, cacheSize int) keys {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, GenerateKey(dir))
	priv, err := LoadSigningKey(dir, false)
	require.NoError(t, err)
	iss, err := NewIssuer(priv, 15*time.Minute)
	require.NoError(t, err)
	pubs, err := LoadPublicKeys(dir)
	require.NoError(t, err)
	ver, err := NewVerifier(pubs, cacheSize)
	require.NoError(t, err)
	return keys{dir: dir, iss: iss, ver: ver, pub: priv.Public().(ed25519.PublicKey), priv: priv}
}

func segment(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// requireSameClaims compares claims, times by instant (an issued token's
// time is local, a parsed one's UTC).
func requireSameClaims(t testing.TB, want, got Claims) {
	t.Helper()
	require.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "expiry %v, want %v", got.ExpiresAt, want.ExpiresAt)
	want.ExpiresAt, got.ExpiresAt = time.Time{}, time.Time{}
	require.Equal(t, want, got)
}

func goodClaims(t testing.TB) string {
	now := time.Now()
	return segment(t, map[string]any{"sub": "7", "sid": "9", "jti": "j", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
}

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	k := setup(t, 16)
	raw, issued, err := k.iss.Issue(7, 9)
	require.NoError(t, err)
	got, err := k.ver.Verify(raw)
	require.NoError(t, err)
	requireSameClaims(t, issued, got)
	require.Equal(t, id.ID(7), got.UserID)
	require.Equal(t, id.ID(9), got.SID)
	require.Len(t, got.JTI, 24)
	require.WithinDuration(t, time.Now().Add(15*time.Minute), got.ExpiresAt, 2*time.Second)

	var hdr struct{ Alg, Kid string }
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &hdr))
	require.Equal(t, "EdDSA", hdr.Alg)
	require.Equal(t, KeyID(k.pub), hdr.Kid)

	raw2, _, err := k.iss.Issue(7, 9)
	require.NoError(t, err)
	require.NotEqual(t, raw, raw2, "every token has its own jti")
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	k := setup(t, 16)
	k.iss.now = func() time.Time { return time.Now().Add(-time.Hour) }
	old, _, err := k.iss.Issue(7, 9)
	require.NoError(t, err)
	_, err = k.ver.Verify(old)
	require.ErrorIs(t, err, ErrExpired)
	require.Empty(t, k.ver.cache, "an expired token is never cached")

	// A cached token that expires is refused, and dropped from the cache.
	k.iss.now = time.Now
	raw, cl, err := k.iss.Issue(7, 9)
	require.NoError(t, err)
	_, err = k.ver.Verify(raw)
	require.NoError(t, err)
	require.Len(t, k.ver.cache, 1)
	k.ver.now = func() time.Time { return cl.ExpiresAt }
	_, err = k.ver.Verify(raw)
	require.ErrorIs(t, err, ErrExpired)
	require.Empty(t, k.ver.cache)
}

func TestRefusesForgeries(t *testing.T) {
	t.Parallel()
	k := setup(t, 16)
	other := setup(t, 16)
	good, _, err := k.iss.Issue(7, 9)
	require.NoError(t, err)
	parts := strings.Split(good, ".")
	kid := KeyID(k.pub)

	foreign, _, err := other.iss.Issue(7, 9)
	require.NoError(t, err)
	fparts := strings.Split(foreign, ".")

	hs := segment(t, map[string]string{"alg": "HS256", "kid": kid}) + "." + goodClaims(t)
	m := hmac.New(sha256.New, k.pub)
	m.Write([]byte(hs))
	hmacForgery := hs + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))

	// Good claims signed by the right key but lacking what Chatterly needs.
	signed := func(b *jwt.Builder) string {
		tok, err := b.Build()
		require.NoError(t, err)
		out, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), k.iss.key))
		require.NoError(t, err)
		return string(out)
	}
	exp := time.Now().Add(time.Hour)
	// Signed by our key, but with a header marking an extension critical
	// (here RFC 7797's unencoded payload): refused, never read under
	// rules the Verifier does not apply.
	ch := segment(t, map[string]any{"alg": "EdDSA", "kid": kid, "b64": false, "crit": []string{"b64"}}) + "." + goodClaims(t)
	critical := ch + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.priv, []byte(ch)))

	for name, tc := range map[string]struct {
		raw  string
		want error
	}{
		"empty":                  {"", ErrMalformed},
		"too long":               {strings.Repeat("a", 4097), ErrMalformed},
		"garbage":                {"not a token", ErrMalformed},
		"two segments":           {parts[0] + "." + parts[1], ErrMalformed},
		"another key":            {foreign, ErrInvalid},
		"another key, our kid":   {parts[0] + "." + fparts[1] + "." + fparts[2], ErrInvalid},
		"tampered claims":        {parts[0] + "." + goodClaims(t) + "." + parts[2], ErrInvalid},
		"tampered signature":     {parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), ErrInvalid},
		"unknown kid":            {segment(t, map[string]string{"alg": "EdDSA", "kid": "nope"}) + "." + parts[1] + "." + parts[2], ErrInvalid},
		"no kid":                 {segment(t, map[string]string{"alg": "EdDSA"}) + "." + parts[1] + "." + parts[2], ErrInvalid},
		"alg none":               {segment(t, map[string]string{"alg": "none", "kid": kid}) + "." + goodClaims(t) + ".", ErrInvalid},
		"HS256 with the pub key": {hmacForgery, ErrInvalid},
		"no sid":                 {signed(jwt.NewBuilder().Subject("7").JwtID("j").Expiration(exp)), ErrInvalid},
		"sub not an id":          {signed(jwt.NewBuilder().Subject("ada").JwtID("j").Expiration(exp).Claim("sid", "9")), ErrInvalid},
		"no jti":                 {signed(jwt.NewBuilder().Subject("7").Expiration(exp).Claim("sid", "9")), ErrInvalid},
		"no exp":                 {signed(jwt.NewBuilder().Subject("7").JwtID("j").Claim("sid", "9")), ErrInvalid},
		"critical extension":     {critical, ErrInvalid},
		"padded signature":       {good + "==", ErrMalformed},
		"four segments":          {good + ".x", ErrMalformed},
	} {
		_, err := k.ver.Verify(tc.raw)
		require.ErrorIs(t, err, tc.want, name)
	}
	require.Empty(t, k.ver.cache, "nothing refused is cached")
}

// Rotation without downtime: both keys' .pub files are accepted while the
// api signs with the new one; removing the old .pub retires its tokens.
func TestRotationWithTwoKeys(t *testing.T) {
	t.Parallel()
	k := setup(t, 16)
	oldTok, _, err := k.iss.Issue(1, 2)
	require.NoError(t, err)

	require.NoError(t, GenerateKey(k.dir)) // rotate
	priv, err := LoadSigningKey(k.dir, false)
	require.NoError(t, err)
	require.NotEqual(t, k.pub, priv.Public(), "signing.key is the new key")
	kept, err := filepath.Glob(filepath.Join(k.dir, "signing.key.*"))
	require.NoError(t, err)
	require.Len(t, kept, 1, "the old signing key is kept aside")
	newIss, err := NewIssuer(priv, time.Minute)
	require.NoError(t, err)
	newTok, _, err := newIss.Issue(1, 3)
	require.NoError(t, err)

	pubs, err := LoadPublicKeys(k.dir)
	require.NoError(t, err)
	require.Len(t, pubs, 2)
	both, err := NewVerifier(pubs, 16)
	require.NoError(t, err)
	_, err = both.Verify(oldTok)
	require.NoError(t, err)
	_, err = both.Verify(newTok)
	require.NoError(t, err)
	_, err = k.ver.Verify(newTok)
	require.ErrorIs(t, err, ErrInvalid, "a verifier without the new .pub refuses its tokens")

	require.NoError(t, os.Remove(filepath.Join(k.dir, KeyID(k.pub)+".pub")))
	pubs, err = LoadPublicKeys(k.dir)
	require.NoError(t, err)
	onlyNew, err := NewVerifier(pubs, 16)
	require.NoError(t, err)
	_, err = onlyNew.Verify(oldTok)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = onlyNew.Verify(newTok)
	require.NoError(t, err)
}

func TestLoadKeysErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	_, err := LoadPublicKeys(empty)
	require.Error(t, err)
	_, err = LoadSigningKey(empty, false)
	require.Error(t, err)
	priv, err := LoadSigningKey(empty, true)
	require.NoError(t, err, "development mode makes a key")
	pubs, err := LoadPublicKeys(empty)
	require.NoError(t, err)
	require.Contains(t, pubs, KeyID(priv.Public().(ed25519.PublicKey)))
	require.NoError(t, EnsureKey(empty))
	again, err := LoadSigningKey(empty, false)
	require.NoError(t, err)
	require.Equal(t, priv, again, "EnsureKey keeps an existing key")

	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "x.pub"), []byte("not pem"), 0o644))
	_, err = LoadPublicKeys(bad)
	require.Error(t, err)
}

// The verified-token cache never holds more than its bound, and a token
// that fell out of it still verifies (the long way).
func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	const bound = 8
	k := setup(t, bound)
	var toks []string
	for i := range 50 {
		raw, _, err := k.iss.Issue(id.ID(i+1), 1)
		require.NoError(t, err)
		toks = append(toks, raw)
		_, err = k.ver.Verify(raw)
		require.NoError(t, err)
		require.LessOrEqual(t, len(k.ver.cache), bound)
	}
	for i, raw := range toks {
		cl, err := k.ver.Verify(raw)
		require.NoError(t, err)
		require.Equal(t, id.ID(i+1), cl.UserID)
	}

	// Expired entries go first when the cache is full.
	k2 := setup(t, bound)
	var live []string
	for i := range bound - 1 {
		raw, _, err := k2.iss.Issue(id.ID(i+1), 1)
		require.NoError(t, err)
		live = append(live, raw)
		_, err = k2.ver.Verify(raw)
		require.NoError(t, err)
	}
	var last [32]byte
	_, _ = rand.Read(last[:])
	k2.ver.cache[last] = Claims{ExpiresAt: time.Now().Add(-time.Second)} // an expired entry
	raw, _, err := k2.iss.Issue(99, 1)
	require.NoError(t, err)
	_, err = k2.ver.Verify(raw)
	require.NoError(t, err)
	require.NotContains(t, k2.ver.cache, last)
	for _, l := range live {
		require.Contains(t, k2.ver.cache, sha256.Sum256([]byte(l)), "live entries stay while expired ones can go")
	}

	off := setup(t, 0)
	_, err = off.ver.Verify(raw)
	require.ErrorIs(t, err, ErrInvalid, "another key")
	raw, _, err = off.iss.Issue(1, 1)
	require.NoError(t, err)
	_, err = off.ver.Verify(raw)
	require.NoError(t, err)
	require.Empty(t, off.ver.cache, "size 0 disables the cache")
}
