package config

import (
	"strings"
	"time"

	"github.com/chatterly/chatterly/shared/clientaddr"
)

// Common is the configuration every Chatterly process shares. Each process
// reads its own extra variables with the same Env.
type Common struct {
	// DatabaseURL is the primary Postgres (DATABASE_URL).
	DatabaseURL string
	// DatabaseReplicaURL, when set, serves reads that need not see the
	// caller's own writes (DATABASE_REPLICA_URL).
	DatabaseReplicaURL string
	// DatabaseReplicaMaxLag is the most the replica may lag behind the
	// primary and still serve reads (DATABASE_REPLICA_MAX_LAG); past it
	// they go to the primary until it has caught up.
	DatabaseReplicaMaxLag time.Duration
	// PgBouncer disables server-side prepared statements (DATABASE_PGBOUNCER=1).
	PgBouncer bool
	// RedisURL holds the denylist, presence, rate limits and caches (REDIS_URL).
	RedisURL string
	// RedisStreamsURL carries the event streams; defaults to RedisURL.
	RedisStreamsURL string
	// KeyPrefix starts every Redis key and stream name (REDIS_KEY_PREFIX).
	KeyPrefix string
	// StreamShards is how many shard streams events are spread over
	// (STREAM_SHARDS). Every process must agree on it.
	StreamShards int
	// StreamMaxLen is the approximate MAXLEN each shard stream is trimmed to.
	StreamMaxLen int
	// AllowedOrigins is the browser origin allow-list for CORS and the edge.
	AllowedOrigins []string
	// TrustedProxies are the load balancers whose X-Forwarded-For the api
	// and the edge believe for a client's address (TRUSTED_PROXIES, CIDRs
	// or addresses, comma-separated; default none: the connection's peer
	// is the client). See clientaddr.Proxies.Client for the rule.
	TrustedProxies clientaddr.Proxies
	// JWTKeyDir holds signing.key and any number of *.pub verification keys.
	JWTKeyDir string
	// JWTDevKeys lets the api generate a signing key when none exists.
	JWTDevKeys bool
	// AccessTokenTTL is the lifetime of an access token.
	AccessTokenTTL time.Duration
	// DependencyTimeout is the longest one Postgres or Redis call waits for
	// an answer when its caller set no deadline of its own
	// (DEPENDENCY_TIMEOUT): a request that needs a dependency that does not
	// answer within it is refused as unavailable instead of hanging.
	DependencyTimeout time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
}

// DefaultOrigins are the loopback origins of the local web client.
var DefaultOrigins = []string{
	"http://localhost:3000", "http://127.0.0.1:3000",
	"http://localhost:5173", "http://127.0.0.1:5173",
}

// LoadCommon reads the shared variables from e.
func LoadCommon(e *Env) Common {
	c := Common{
		DatabaseURL:        e.URL("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chatterly?sslmode=disable", "postgres", "postgresql"),
		DatabaseReplicaURL: e.URL("DATABASE_REPLICA_URL", "", "postgres", "postgresql"),
		PgBouncer:          e.Bool("DATABASE_PGBOUNCER", false),
		RedisURL:           e.URL("REDIS_URL", "redis://127.0.0.1:6379/0", "redis", "rediss", "unix"),
		KeyPrefix:          e.String("REDIS_KEY_PREFIX", "chatterly:"),
		StreamShards:       e.Int("STREAM_SHARDS", 8, 1, 1024),
		StreamMaxLen:       e.Int("STREAM_MAXLEN", 100_000, 1_000, 100_000_000),
		AllowedOrigins:     e.List("ALLOWED_ORIGINS", DefaultOrigins),
		JWTKeyDir:          e.String("JWT_KEY_DIR", "/var/tmp/chatterly/keys"),
		JWTDevKeys:         e.Bool("JWT_DEV_KEYS", false),
		AccessTokenTTL:     e.Duration("ACCESS_TOKEN_TTL", 15*time.Minute, 10*time.Second, 24*time.Hour),
		DependencyTimeout:  e.Duration("DEPENDENCY_TIMEOUT", time.Second, 50*time.Millisecond, time.Minute),
		LogLevel:           e.String("LOG_LEVEL", "info"),
	}
	proxies := e.List("TRUSTED_PROXIES", nil)
	tp, err := clientaddr.ParseProxies(proxies)
	e.Check(err == nil, "TRUSTED_PROXIES", strings.Join(proxies, ","), "want CIDRs or addresses, comma-separated")
	c.TrustedProxies = tp
	c.DatabaseReplicaMaxLag = e.Duration("DATABASE_REPLICA_MAX_LAG", 10*time.Second, time.Second, 10*time.Minute)
	c.RedisStreamsURL = e.URL("REDIS_STREAMS_URL", c.RedisURL, "redis", "rediss", "unix")
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		e.fail("LOG_LEVEL", c.LogLevel, "want debug, info, warn or error")
	}
	return c
}
