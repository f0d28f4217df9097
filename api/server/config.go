package server

import (
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/file"
	"github.com/chatterly/chatterly/api/reaction"
	"github.com/chatterly/chatterly/api/search"
	"github.com/chatterly/chatterly/shared/config"
)

// Config is the api's configuration.
type Config struct {
	config.Common
	// Addr is where the api serves REST, /healthz and /readyz (API_ADDR).
	Addr string
	// AdminAddr serves /metrics and, with Pprof (API_PPROF=1), Go's
	// profiles under /debug/pprof/ (API_ADMIN_ADDR): kept off API_ADDR,
	// which faces clients, as the edge's and the worker's are.
	AdminAddr string
	Pprof     bool
	// NodeID, when not -1, fixes the id generator's node (NODE_ID); otherwise
	// one is drawn from a Postgres sequence at start.
	NodeID int
	// MaxBodyBytes is the server-wide request size cap (API_MAX_BODY_BYTES);
	// routes have their own smaller limits.
	MaxBodyBytes int
	// DBMaxConns sizes the Postgres pool (DATABASE_MAX_CONNS).
	DBMaxConns int
	// ShutdownTimeout bounds the graceful stop (SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// Auth holds the authentication settings.
	Auth AuthConfig
	// Messaging holds the settings of conversations, messages, the event
	// log and the caches.
	Messaging MessagingConfig
	// Files holds the storage of files and their limits (FILE_*, S3_*).
	Files file.Config
	// Calls holds CALL_RING_TIMEOUT and the ICE servers (STUN_URLS,
	// TURN_URLS, TURN_SECRET, TURN_CREDENTIAL_TTL).
	Calls call.Config
}

// MessagingConfig holds the limits and tunables of messaging. Rates are per
// user per minute, set where a busy person never meets them.
type MessagingConfig struct {
	ConversationsPerMin int           // RATE_CONVERSATIONS
	MessagesPerMin      int           // RATE_MESSAGES
	ReactionsPerMin     int           // RATE_REACTIONS
	UserSearchPerMin    int           // RATE_USER_SEARCH
	MessageSearchPerMin int           // RATE_MESSAGE_SEARCH
	SearchRankWindow    int           // SEARCH_RANK_WINDOW: matches a message search ranks at once, newest first
	ReactionsPerMessage int           // REACTIONS_PER_MESSAGE: distinct emoji on one message
	ReactionsPerUser    int           // REACTIONS_PER_USER_PER_MESSAGE: one user's reactions on one message
	EventRetention      time.Duration // EVENT_RETENTION: how long the event log keeps events
	PublishTimeout      time.Duration // PUBLISH_TIMEOUT: bound on the append after a commit
	CacheTTL            time.Duration // CACHE_TTL: lifetime of a cache entry in Redis
	CacheLocalTTL       time.Duration // CACHE_LOCAL_TTL: bound on an entry in process memory
}

// AuthConfig holds the limits and lifetimes of authentication.
type AuthConfig struct {
	RefreshTokenTTL       time.Duration // REFRESH_TOKEN_TTL
	RefreshReuseGrace     time.Duration // REFRESH_REUSE_GRACE
	TokenCacheSize        int           // TOKEN_CACHE_SIZE
	HashConcurrency       int           // PASSWORD_HASH_CONCURRENCY
	Argon2Memory          int           // ARGON2_MEMORY_KIB
	Argon2Time            int           // ARGON2_TIME
	LoginFreeFailures     int           // LOGIN_FREE_FAILURES
	LoginBackoff          time.Duration // LOGIN_BACKOFF
	LoginBackoffMax       time.Duration // LOGIN_BACKOFF_MAX
	LoginPerAddrPerMin    int           // RATE_LOGIN_PER_ADDR
	RegisterPerAddrPerMin int           // RATE_REGISTER_PER_ADDR
}

// LoadConfig reads the api's configuration from e.
func LoadConfig(e *config.Env) (Config, error) {
	c := Config{
		Common:          config.LoadCommon(e),
		Addr:            e.Addr("API_ADDR", "127.0.0.1:8080"),
		AdminAddr:       e.Addr("API_ADMIN_ADDR", "127.0.0.1:8090"),
		Pprof:           e.Bool("API_PPROF", false),
		NodeID:          e.Int("NODE_ID", -1, -1, 1023),
		MaxBodyBytes:    e.Int("API_MAX_BODY_BYTES", 1<<20, 1<<10, 64<<20),
		DBMaxConns:      e.Int("DATABASE_MAX_CONNS", 32, 2, 1000),
		ShutdownTimeout: e.Duration("SHUTDOWN_TIMEOUT", 10*time.Second, time.Second, 10*time.Minute),
		Auth: AuthConfig{
			RefreshTokenTTL:       e.Duration("REFRESH_TOKEN_TTL", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
			RefreshReuseGrace:     e.Duration("REFRESH_REUSE_GRACE", 10*time.Second, 0, time.Minute),
			TokenCacheSize:        e.Int("TOKEN_CACHE_SIZE", 100_000, 0, 10_000_000),
			HashConcurrency:       e.Int("PASSWORD_HASH_CONCURRENCY", 2, 1, 256),
			Argon2Memory:          e.Int("ARGON2_MEMORY_KIB", 64*1024, 8*1024, 1024*1024),
			Argon2Time:            e.Int("ARGON2_TIME", 1, 1, 10),
			LoginFreeFailures:     e.Int("LOGIN_FREE_FAILURES", 5, 1, 1_000_000),
			LoginBackoff:          e.Duration("LOGIN_BACKOFF", time.Second, 10*time.Millisecond, time.Hour),
			LoginBackoffMax:       e.Duration("LOGIN_BACKOFF_MAX", 15*time.Minute, time.Second, 24*time.Hour),
			LoginPerAddrPerMin:    e.Int("RATE_LOGIN_PER_ADDR", 60, 1, 1_000_000),
			RegisterPerAddrPerMin: e.Int("RATE_REGISTER_PER_ADDR", 10, 1, 1_000_000),
		},
		Messaging: MessagingConfig{
			ConversationsPerMin: e.Int("RATE_CONVERSATIONS", 60, 1, 10_000_000),
			MessagesPerMin:      e.Int("RATE_MESSAGES", 300, 1, 10_000_000),
			ReactionsPerMin:     e.Int("RATE_REACTIONS", 300, 1, 10_000_000),
			UserSearchPerMin:    e.Int("RATE_USER_SEARCH", 120, 1, 10_000_000),
			MessageSearchPerMin: e.Int("RATE_MESSAGE_SEARCH", 60, 1, 10_000_000),
			SearchRankWindow:    e.Int("SEARCH_RANK_WINDOW", search.DefaultRankWindow, 1, 100_000),
			ReactionsPerMessage: e.Int("REACTIONS_PER_MESSAGE", reaction.DefaultCaps().PerMessage, 1, 10_000),
			ReactionsPerUser:    e.Int("REACTIONS_PER_USER_PER_MESSAGE", reaction.DefaultCaps().PerUser, 1, 10_000),
			EventRetention:      e.Duration("EVENT_RETENTION", 30*24*time.Hour, time.Hour, 10*365*24*time.Hour),
			PublishTimeout:      e.Duration("PUBLISH_TIMEOUT", time.Second, 10*time.Millisecond, time.Minute),
			CacheTTL:            e.Duration("CACHE_TTL", 10*time.Minute, time.Second, 24*time.Hour),
			CacheLocalTTL:       e.Duration("CACHE_LOCAL_TTL", time.Minute, time.Second, time.Hour),
		},
	}
	e.Check(c.Auth.LoginBackoffMax >= c.Auth.LoginBackoff, "LOGIN_BACKOFF_MAX", c.Auth.LoginBackoffMax.String(), "want at least LOGIN_BACKOFF")
	c.Calls = call.LoadConfig(e)
	c.Files = file.LoadConfig(e)
	return c, e.Err()
}
