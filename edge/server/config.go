package server

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/shared/config"
)

// Config is the edge's configuration. Every limit is an environment
// variable; defaults suit one edge process holding ~19,000 sockets on a
// small machine and are generous enough for a load test from one address
// and one user.
type Config struct {
	config.Common
	// Addr is the WebSocket listener (EDGE_ADDR); AdminAddr serves
	// /healthz, /readyz and /metrics (EDGE_ADMIN_ADDR).
	Addr      string
	AdminAddr string
	// Node names this process in the fleet (EDGE_NODE_ID; default
	// hostname-pid-random).
	Node string
	// EventLoops is the number of gnet event loops (EDGE_EVENT_LOOPS; 0 =
	// one per CPU).
	EventLoops int

	// MaxSockets caps open sockets, handshakes included (EDGE_MAX_SOCKETS;
	// default the open-files limit minus FDHeadroom).
	MaxSockets int
	// FDHeadroom is the descriptors kept for everything but sockets
	// (EDGE_FD_HEADROOM; default min(500, max(64, limit/10))).
	FDHeadroom int
	// MaxSocketsPerUser caps one user's sockets on this node
	// (EDGE_MAX_SOCKETS_PER_USER); MaxSocketsPerAddr caps the sockets of
	// one client address (EDGE_MAX_SOCKETS_PER_ADDR; the address of
	// X-Forwarded-For when the peer is in TRUSTED_PROXIES). Both sit well
	// below the node's cap so that no one account or machine can hold the
	// node: a person has a few tabs and devices (100 leaves ten times that),
	// and an office or campus behind one NAT address rarely holds more than
	// a thousand live sockets on one node (~5 % of a 19,500-socket node).
	// Load generators (bench, chatterly-load, the conformance tests)
	// connect from one address with few users: they raise both through
	// these variables. Behind a load balancer set TRUSTED_PROXIES, or every
	// client shares the balancer's address.
	MaxSocketsPerUser int
	MaxSocketsPerAddr int
	// HandshakeRate and HandshakeBurst are the per-address token bucket for
	// new connections (EDGE_HANDSHAKE_RATE per second, EDGE_HANDSHAKE_BURST).
	HandshakeRate  float64
	HandshakeBurst int
	// HandshakeTimeout closes a connection that has not finished its
	// handshake and authentication (EDGE_HANDSHAKE_TIMEOUT).
	HandshakeTimeout time.Duration
	// MaxHandshakeBytes bounds the HTTP request head (EDGE_MAX_HANDSHAKE_BYTES).
	MaxHandshakeBytes int
	// MaxMessageBytes bounds a client message, fragments together
	// (EDGE_MAX_MESSAGE_BYTES).
	MaxMessageBytes int
	// MaxOutboundBytes bounds what may wait unsent for one socket; a socket
	// over it is disconnected as too_slow (EDGE_MAX_OUTBOUND_BYTES).
	MaxOutboundBytes int
	// SocketSendBuffer sets SO_SNDBUF on sockets (EDGE_SOCKET_SNDBUF; 0
	// leaves the kernel's autotuning).
	SocketSendBuffer int
	// MaxSubscriptions bounds one socket's subscriptions (EDGE_MAX_SUBSCRIPTIONS).
	MaxSubscriptions int
	// CommandRate and CommandBurst are the per-socket token bucket for
	// commands (EDGE_COMMAND_RATE per second, EDGE_COMMAND_BURST).
	CommandRate  float64
	CommandBurst int
	// MaxInvalid is how many malformed or over-limit commands a socket may
	// send (recovering one every 10 s) before it is disconnected with
	// invalid_request (EDGE_MAX_INVALID).
	MaxInvalid int
	// PingInterval is the keepalive period (EDGE_PING_INTERVAL; the
	// official client expects 3 s and calls a connection stale after 6 s).
	PingInterval time.Duration
	// ShutdownWindow spreads the server_restart disconnects of a graceful
	// stop (EDGE_SHUTDOWN_WINDOW).
	ShutdownWindow time.Duration
	// ShutdownTimeout bounds everything a graceful stop does after the
	// drain: presence's goodbye (which waits out PresenceGrace when it
	// can), stopping the stream readers, the engine and the worker pool
	// (EDGE_SHUTDOWN_TIMEOUT). Window plus timeout (15 s by default) stay
	// inside Kubernetes' default 30 s termination grace, so the edge exits
	// by itself even while Redis is unreachable.
	ShutdownTimeout time.Duration
	// RedisTimeout is the longest the edge waits for Redis on a client's
	// behalf (EDGE_REDIS_TIMEOUT): the handshake's denylist check (past it
	// the socket is refused with "unavailable", reconnect true: the
	// denylist fails closed), a ConversationChannel subscribe (every
	// reject_subscription is sent this long after the subscribe, see
	// commands.go), presence snapshots and relays.
	RedisTimeout time.Duration
	// PresenceGrace delays "offline" after a user's last socket closes
	// (EDGE_PRESENCE_GRACE); NodeTTL is the heartbeat lifetime after which
	// a silent node's users go offline (EDGE_NODE_TTL).
	PresenceGrace time.Duration
	NodeTTL       time.Duration
	// TypingInterval is the least time between two typing relays of one
	// user in one conversation (EDGE_TYPING_INTERVAL).
	TypingInterval time.Duration
	// MaxSignalBytes bounds a send_signal payload (EDGE_MAX_SIGNAL_BYTES).
	MaxSignalBytes int
	// MaxWatch bounds the users one presence subscription watches (EDGE_MAX_WATCH).
	MaxWatch int
	// Workers and WorkQueue size the pool that does the blocking work
	// (token checks, Redis reads and appends) off the event loops
	// (EDGE_WORKERS, EDGE_WORK_QUEUE).
	Workers   int
	WorkQueue int
	// TokenCacheSize bounds the verified-token cache (TOKEN_CACHE_SIZE).
	// The edge's default is small: a token is verified once per
	// connection, and a socket must not pay for a cache entry while idle.
	TokenCacheSize int
	// RedisCacheBytes bounds rueidis' client-side cache per Redis
	// connection (EDGE_REDIS_CACHE_BYTES): member sets, call participants
	// and denylist answers are cached least-recently-used within it, so
	// the cache's memory does not grow with the number of sockets.
	RedisCacheBytes int
	// Pprof serves Go's profiles on the admin address (EDGE_PPROF=1).
	Pprof bool
	// GCPercent is the garbage collector's target (EDGE_GC_PERCENT, as
	// GOGC, which it overrides); main sets it, process-wide. The edge's heap is mostly long-lived
	// socket state and its garbage is small per event, so a lower target
	// than Go's 100 keeps resident memory near the live sockets' size for
	// a few percent of CPU.
	GCPercent int
	// StreamReaders is the least number of XREAD loops sharing the shard
	// streams (EDGE_STREAM_READERS): one Redis is read in one XREAD unless
	// this asks for more; a Redis Cluster is detected and each hash slot's
	// streams (each shard's) are read in their own, whatever this says
	// (stream.Plan).
	StreamReaders int
	// MaxBacklog bounds the event deliveries read and not yet written
	// (EDGE_MAX_BACKLOG); past it the stream readers wait.
	MaxBacklog int
}

// LoadConfig reads the edge's configuration from e.
func LoadConfig(e *config.Env) (Config, error) {
	limit := openFilesLimit()
	headroom := e.Int("EDGE_FD_HEADROOM", min(500, max(64, limit/10)), 8, 100_000)
	c := Config{
		Common:            config.LoadCommon(e),
		Addr:              e.Addr("EDGE_ADDR", "127.0.0.1:8081"),
		AdminAddr:         e.Addr("EDGE_ADMIN_ADDR", "127.0.0.1:8091"),
		Node:              e.String("EDGE_NODE_ID", defaultNode()),
		EventLoops:        e.Int("EDGE_EVENT_LOOPS", 0, 0, 256),
		FDHeadroom:        headroom,
		MaxSockets:        e.Int("EDGE_MAX_SOCKETS", max(1, limit-headroom), 1, 10_000_000),
		MaxSocketsPerUser: e.Int("EDGE_MAX_SOCKETS_PER_USER", 100, 1, 10_000_000),
		MaxSocketsPerAddr: e.Int("EDGE_MAX_SOCKETS_PER_ADDR", 1000, 1, 10_000_000),
		HandshakeRate:     float64(e.Int("EDGE_HANDSHAKE_RATE", 20_000, 1, 10_000_000)),
		HandshakeBurst:    e.Int("EDGE_HANDSHAKE_BURST", 40_000, 1, 10_000_000),
		HandshakeTimeout:  e.Duration("EDGE_HANDSHAKE_TIMEOUT", 10*time.Second, 100*time.Millisecond, 5*time.Minute),
		MaxHandshakeBytes: e.Int("EDGE_MAX_HANDSHAKE_BYTES", 16<<10, 1<<10, 1<<20),
		MaxMessageBytes:   e.Int("EDGE_MAX_MESSAGE_BYTES", 64<<10, 1<<10, 16<<20),
		MaxOutboundBytes:  e.Int("EDGE_MAX_OUTBOUND_BYTES", 256<<10, 4<<10, 256<<20),
		SocketSendBuffer:  e.Int("EDGE_SOCKET_SNDBUF", 0, 0, 64<<20),
		MaxSubscriptions:  e.Int("EDGE_MAX_SUBSCRIPTIONS", 100, 1, 100_000),
		CommandRate:       float64(e.Int("EDGE_COMMAND_RATE", 20, 1, 1_000_000)),
		CommandBurst:      e.Int("EDGE_COMMAND_BURST", 60, 1, 1_000_000),
		MaxInvalid:        e.Int("EDGE_MAX_INVALID", 10, 1, 250),
		PingInterval:      e.Duration("EDGE_PING_INTERVAL", 3*time.Second, 100*time.Millisecond, time.Minute),
		ShutdownWindow:    e.Duration("EDGE_SHUTDOWN_WINDOW", 5*time.Second, 0, 10*time.Minute),
		ShutdownTimeout:   e.Duration("EDGE_SHUTDOWN_TIMEOUT", 10*time.Second, 100*time.Millisecond, 10*time.Minute),
		RedisTimeout:      e.Duration("EDGE_REDIS_TIMEOUT", 800*time.Millisecond, 50*time.Millisecond, time.Minute),
		PresenceGrace:     e.Duration("EDGE_PRESENCE_GRACE", 3*time.Second, 0, 10*time.Minute),
		NodeTTL:           e.Duration("EDGE_NODE_TTL", 40*time.Second, 400*time.Millisecond, time.Hour),
		TypingInterval:    e.Duration("EDGE_TYPING_INTERVAL", 2*time.Second, 0, time.Minute),
		MaxSignalBytes:    e.Int("EDGE_MAX_SIGNAL_BYTES", 32<<10, 256, 1<<20),
		MaxWatch:          e.Int("EDGE_MAX_WATCH", 500, 1, 100_000),
		Workers:           e.Int("EDGE_WORKERS", 16, 1, 4096),
		WorkQueue:         e.Int("EDGE_WORK_QUEUE", 20_000, 16, 10_000_000),
		TokenCacheSize:    e.Int("TOKEN_CACHE_SIZE", 256, 0, 10_000_000),
		RedisCacheBytes:   e.Int("EDGE_REDIS_CACHE_BYTES", 256<<10, 64<<10, 1<<30),
		StreamReaders:     e.Int("EDGE_STREAM_READERS", 1, 1, 1024),
		MaxBacklog:        e.Int("EDGE_MAX_BACKLOG", 20_000, 100, 10_000_000),
		Pprof:             e.Bool("EDGE_PPROF", false),
		GCPercent:         e.Int("EDGE_GC_PERCENT", 50, 10, 1000),
	}
	e.Check(c.MaxMessageBytes >= c.MaxSignalBytes, "EDGE_MAX_SIGNAL_BYTES", strconv.Itoa(c.MaxSignalBytes),
		"must not exceed EDGE_MAX_MESSAGE_BYTES")
	e.Check(c.MaxSockets <= limit-minReserve, "EDGE_MAX_SOCKETS", strconv.Itoa(c.MaxSockets),
		fmt.Sprintf("must leave %d of the %d open files for other descriptors, or the process could run out (raise the limit first)",
			minReserve, limit))
	return c, e.Err()
}

func defaultNode() string {
	h, err := os.Hostname()
	if err != nil {
		h = "edge"
	}
	return fmt.Sprintf("%s-%d-%s", h, os.Getpid(), strconv.FormatInt(time.Now().UnixNano()%1_000_000, 36))
}
