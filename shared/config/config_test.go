package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEnvTypedValues(t *testing.T) {
	t.Parallel()
	e := FromMap(map[string]string{
		"S": "  text  ", "I": "42", "D": "90s", "B": "true", "L": " a, ,b ,c", "A": "127.0.0.1:9",
		"U": "postgres://u:secret@h/db", "BLANK": "   ",
	})
	require.Equal(t, "text", e.String("S", "def"), "values are trimmed")
	require.Equal(t, "def", e.String("MISSING", "def"))
	require.Equal(t, "def", e.String("BLANK", "def"), "blank is unset")
	require.Equal(t, 42, e.Int("I", 1, 0, 100))
	require.Equal(t, 7, e.Int("MISSING", 7, 0, 100))
	require.Equal(t, 90*time.Second, e.Duration("D", time.Second, time.Second, time.Hour))
	require.True(t, e.Bool("B", false))
	require.Equal(t, []string{"a", "b", "c"}, e.List("L", nil), "blanks dropped")
	require.Equal(t, []string{"x"}, e.List("MISSING", []string{"x"}))
	require.Equal(t, "127.0.0.1:9", e.Addr("A", ""))
	require.Equal(t, "postgres://u:secret@h/db", e.URL("U", "", "postgres"))
	require.NoError(t, e.Err())
}

// Every bad variable is reported, each by name, in one error: a process
// refuses to start rather than run on a misread setting.
func TestEnvCollectsEveryProblem(t *testing.T) {
	t.Parallel()
	e := FromMap(map[string]string{
		"I": "x", "RANGE": "1000", "D": "soon", "SHORT": "1ms", "B": "maybe", "A": "nohost", "P": "h:99999",
		"U": "redis://u:hunter2@h/0", "C": "bad",
	})
	require.Equal(t, 5, e.Int("I", 5, 0, 10), "the default stands in")
	e.Int("RANGE", 5, 0, 10)
	e.Duration("D", time.Second, time.Second, time.Hour)
	e.Duration("SHORT", time.Second, time.Second, time.Hour)
	e.Bool("B", false)
	e.Addr("A", "")
	e.Addr("P", "")
	e.URL("U", "", "postgres")
	e.Check(false, "C", "bad", "want good")
	err := e.Err()
	require.Error(t, err)
	for _, name := range []string{"I=", "RANGE=", "D=", "SHORT=", "B=", "A=", "P=", "U=", "C="} {
		require.ErrorContains(t, err, name)
	}
	require.NotContains(t, err.Error(), "hunter2", "passwords in URLs are redacted")
}

func TestLoadCommonDefaults(t *testing.T) {
	t.Parallel()
	e := FromMap(nil)
	c := LoadCommon(e)
	require.NoError(t, e.Err())
	require.Equal(t, "redis://127.0.0.1:6379/0", c.RedisURL)
	require.Equal(t, c.RedisURL, c.RedisStreamsURL, "streams default to REDIS_URL")
	require.Equal(t, 15*time.Minute, c.AccessTokenTTL)
	require.Equal(t, DefaultOrigins, c.AllowedOrigins)
	require.Equal(t, "chatterly:", c.KeyPrefix)
	require.Equal(t, 8, c.StreamShards)
	require.Equal(t, "info", c.LogLevel)
	require.False(t, c.PgBouncer)
	require.False(t, c.JWTDevKeys)
	require.True(t, c.TrustedProxies.Empty(), "no proxy is trusted unless configured")
	require.Equal(t, time.Second, c.DependencyTimeout)
	for _, o := range c.AllowedOrigins {
		require.Regexp(t, `^http://(localhost|127\.0\.0\.1):\d+$`, o, "the default origins are loopback only")
	}
}

func TestLoadCommonFromEnvironment(t *testing.T) {
	t.Parallel()
	e := FromMap(map[string]string{
		"REDIS_URL": "redis://r1:6379/0", "REDIS_STREAMS_URL": "redis://r2:6379/0", "ALLOWED_ORIGINS": "https://a.example,https://b.example",
		"ACCESS_TOKEN_TTL": "2m", "DATABASE_PGBOUNCER": "1", "LOG_LEVEL": "debug", "STREAM_SHARDS": "16",
		"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7",
	})
	c := LoadCommon(e)
	require.NoError(t, e.Err())
	require.Equal(t, "redis://r2:6379/0", c.RedisStreamsURL)
	require.Equal(t, []string{"https://a.example", "https://b.example"}, c.AllowedOrigins)
	require.Equal(t, 2*time.Minute, c.AccessTokenTTL)
	require.True(t, c.PgBouncer)
	require.Equal(t, 16, c.StreamShards)
	require.True(t, c.TrustedProxies.Trusts(netip.MustParseAddr("192.0.2.7")))
	require.False(t, c.TrustedProxies.Trusts(netip.MustParseAddr("192.0.2.8")))

	e = FromMap(map[string]string{"LOG_LEVEL": "loud", "REDIS_URL": "http://x", "ACCESS_TOKEN_TTL": "1s", "TRUSTED_PROXIES": "10.0.0.0/8,lb"})
	LoadCommon(e)
	err := e.Err()
	require.ErrorContains(t, err, "LOG_LEVEL")
	require.ErrorContains(t, err, "REDIS_URL")
	require.ErrorContains(t, err, "ACCESS_TOKEN_TTL")
	require.ErrorContains(t, err, "TRUSTED_PROXIES")
}
