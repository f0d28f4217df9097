package worker

import (
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/shared/config"
)

// Config is the worker's configuration.
type Config struct {
	config.Common
	// Addr serves /healthz, /readyz and /metrics (WORKER_ADDR).
	Addr string
	// NodeID, when not -1, fixes the id generator's node (NODE_ID);
	// otherwise one is drawn from the Postgres sequence the api draws from,
	// so the worker's event ids never collide with the api's.
	NodeID int
	// DBMaxConns sizes the Postgres pool (DATABASE_MAX_CONNS).
	DBMaxConns int
	// ShutdownTimeout bounds the graceful stop (SHUTDOWN_TIMEOUT): running
	// jobs get this long to finish before their contexts are cancelled.
	ShutdownTimeout time.Duration
	// RingTimeout is CALL_RING_TIMEOUT; no call younger is turned missed.
	RingTimeout time.Duration
	// CallWorkers bounds the missed-call jobs run at once (CALL_JOB_WORKERS).
	CallWorkers int
	// TimerPoll is how often the precise timer looks for missed-call jobs
	// about to fall due (CALL_TIMER_POLL), and TimerAhead how far ahead it
	// looks (CALL_TIMER_AHEAD); TimerPoll 0 turns the timer off, leaving
	// River's scheduler alone (seconds late).
	TimerPoll  time.Duration
	TimerAhead time.Duration
	// Relay tunes the outbox relay (RELAY_GRACE, RELAY_INTERVAL,
	// RELAY_BATCH; the first two are the names and defaults the api read
	// when it ran the relay).
	Relay eventlog.RelayConfig
	// MasterCheck is how often the streams' Redis masters are polled for a
	// restart or a failover (RELAY_MASTER_CHECK; 0 turns it off), and
	// SweepWindow how far before the last poll every master answered a
	// sweep after one reaches back (RELAY_SWEEP_WINDOW): the most the
	// replicas, or the append-only file, may lag (MasterWatch).
	MasterCheck time.Duration
	SweepWindow time.Duration
	// PartitionMonthsAhead is how many months past the current one always
	// have their partitions (PARTITION_MONTHS_AHEAD); UpkeepInterval is how
	// often that is checked (PARTITION_UPKEEP_INTERVAL).
	PartitionMonthsAhead int
	UpkeepInterval       time.Duration
	// EventRetention is how long the conversation event log is kept
	// (EVENT_RETENTION); RetentionInterval how often it is trimmed
	// (EVENT_RETENTION_INTERVAL).
	EventRetention    time.Duration
	RetentionInterval time.Duration
	// KeyRetention is how long the idempotency keys of message sends are
	// kept (IDEMPOTENCY_KEY_RETENTION), at least message.IdempotencyKeyTTL;
	// KeyRetentionInterval how often they are trimmed
	// (IDEMPOTENCY_KEY_RETENTION_INTERVAL).
	KeyRetention         time.Duration
	KeyRetentionInterval time.Duration
	// SessionRetention is how long an ended session (with its refresh
	// tokens) is kept (SESSION_RETENTION); SessionRetentionInterval how
	// often ended sessions are trimmed (SESSION_RETENTION_INTERVAL).
	SessionRetention         time.Duration
	SessionRetentionInterval time.Duration
}

// LoadConfig reads the worker's configuration from e.
func LoadConfig(e *config.Env) (Config, error) {
	c := Config{
		Common:          config.LoadCommon(e),
		Addr:            e.Addr("WORKER_ADDR", "127.0.0.1:8092"),
		NodeID:          e.Int("NODE_ID", -1, -1, 1023),
		DBMaxConns:      e.Int("DATABASE_MAX_CONNS", 16, 4, 1000),
		ShutdownTimeout: e.Duration("SHUTDOWN_TIMEOUT", 10*time.Second, time.Second, 10*time.Minute),
		RingTimeout:     call.LoadRingTimeout(e),
		CallWorkers:     e.Int("CALL_JOB_WORKERS", 20, 1, 10_000),
		TimerPoll:       e.Duration("CALL_TIMER_POLL", 500*time.Millisecond, 0, time.Minute),
		TimerAhead:      e.Duration("CALL_TIMER_AHEAD", 2*time.Second, 10*time.Millisecond, 10*time.Minute),
		Relay: eventlog.RelayConfig{
			Grace:    e.Duration("RELAY_GRACE", 2*time.Second, 10*time.Millisecond, time.Hour),
			Interval: e.Duration("RELAY_INTERVAL", time.Second, 10*time.Millisecond, time.Hour),
			Batch:    e.Int("RELAY_BATCH", 500, 1, 100_000),
		},
		MasterCheck:          e.Duration("RELAY_MASTER_CHECK", time.Second, 0, time.Minute),
		SweepWindow:          e.Duration("RELAY_SWEEP_WINDOW", 10*time.Second, 0, time.Hour),
		PartitionMonthsAhead: e.Int("PARTITION_MONTHS_AHEAD", 3, 1, 120),
		UpkeepInterval:       e.Duration("PARTITION_UPKEEP_INTERVAL", time.Hour, time.Second, 30*24*time.Hour),
		EventRetention:       e.Duration("EVENT_RETENTION", eventlog.DefaultRetention, time.Hour, 10*365*24*time.Hour),
		RetentionInterval:    e.Duration("EVENT_RETENTION_INTERVAL", time.Hour, time.Second, 30*24*time.Hour),
		// Twice the promised day by default: a margin for late retries and
		// for a worker clock ahead of the api's (keys carry the api's time).
		KeyRetention:         e.Duration("IDEMPOTENCY_KEY_RETENTION", 48*time.Hour, message.IdempotencyKeyTTL, 10*365*24*time.Hour),
		KeyRetentionInterval: e.Duration("IDEMPOTENCY_KEY_RETENTION_INTERVAL", time.Hour, time.Second, 30*24*time.Hour),
		// A month of ended sessions, for support questions ("when was I
		// logged out, and why?").
		SessionRetention:         e.Duration("SESSION_RETENTION", 30*24*time.Hour, 0, 10*365*24*time.Hour),
		SessionRetentionInterval: e.Duration("SESSION_RETENTION_INTERVAL", time.Hour, time.Second, 30*24*time.Hour),
	}
	e.Check(c.TimerPoll == 0 || c.TimerAhead >= c.TimerPoll, "CALL_TIMER_AHEAD", c.TimerAhead.String(),
		"want at least CALL_TIMER_POLL, or a job could fall due between two looks")
	return c, e.Err()
}
