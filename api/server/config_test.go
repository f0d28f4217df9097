package server

import (
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/config"
	"github.com/stretchr/testify/require"
)

// The defaults let a person use the product normally, and put the api on
// loopback.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(config.FromMap(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.Addr)
	require.Equal(t, 15*time.Minute, c.AccessTokenTTL)
	require.GreaterOrEqual(t, c.Auth.RegisterPerAddrPerMin, 10)
	require.GreaterOrEqual(t, c.Auth.LoginFreeFailures, 5)
	require.GreaterOrEqual(t, c.Auth.LoginPerAddrPerMin, c.Auth.LoginFreeFailures)
	require.LessOrEqual(t, c.Auth.LoginBackoffMax, time.Hour, "an owner who mistyped is never held off for long")
	require.GreaterOrEqual(t, c.Auth.HashConcurrency, 1)
	require.Equal(t, config.DefaultOrigins, c.AllowedOrigins)
	require.Equal(t, -1, c.NodeID)
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(config.FromMap(map[string]string{
		"API_ADDR":                  "0.0.0.0:9000",
		"ACCESS_TOKEN_TTL":          "5m",
		"REFRESH_TOKEN_TTL":         "48h",
		"REFRESH_REUSE_GRACE":       "5s",
		"LOGIN_FREE_FAILURES":       "3",
		"LOGIN_BACKOFF":             "2s",
		"LOGIN_BACKOFF_MAX":         "1h",
		"RATE_LOGIN_PER_ADDR":       "30",
		"RATE_REGISTER_PER_ADDR":    "4",
		"PASSWORD_HASH_CONCURRENCY": "8",
		"ARGON2_MEMORY_KIB":         "16384",
		"ARGON2_TIME":               "2",
		"TOKEN_CACHE_SIZE":          "0",
	}))
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9000", c.Addr)
	require.Equal(t, 5*time.Minute, c.AccessTokenTTL)
	require.Equal(t, AuthConfig{
		RefreshTokenTTL: 48 * time.Hour, RefreshReuseGrace: 5 * time.Second, TokenCacheSize: 0, HashConcurrency: 8, Argon2Memory: 16384, Argon2Time: 2,
		LoginFreeFailures: 3, LoginBackoff: 2 * time.Second, LoginBackoffMax: time.Hour, LoginPerAddrPerMin: 30, RegisterPerAddrPerMin: 4,
	}, c.Auth)
}

func TestConfigRefusesBadValues(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(config.FromMap(map[string]string{
		"API_ADDR":            "localhost",
		"LOGIN_FREE_FAILURES": "0",
		"ARGON2_MEMORY_KIB":   "lots",
	}))
	require.Error(t, err)
	for _, name := range []string{"API_ADDR", "LOGIN_FREE_FAILURES", "ARGON2_MEMORY_KIB"} {
		require.ErrorContains(t, err, name, "every bad variable is named at once")
	}
}
