// Package outage logs a dependency's outages (Postgres, Redis) the way an
// operator wants to read them: one line when the dependency stops
// answering, one line when it answers again with how long it was gone and
// how many calls failed meanwhile — never one line per failed call, which
// would bury everything else during an outage and cost as much as the
// calls themselves.
//
// Callers report what they see: Fail for a call the dependency did not
// answer (refused, reset, timed out), OK for one it answered (an error
// reply such as a constraint violation is an answer). Which errors mean
// "did not answer" is the caller's judgement (see RedisFailure for Redis;
// the api classifies Postgres errors itself). The api and the worker track
// through their clients (api/dial); the edge can use the same Tracker.
package outage

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker follows one dependency. It is safe for concurrent use; OK on a
// healthy dependency is one atomic load, so it can sit on every call.
type Tracker struct {
	log  *slog.Logger
	name string
	now  func() time.Time

	down atomic.Bool
	// mu guards the outage in progress; taken only on failures and on the
	// first success after them.
	mu       sync.Mutex
	since    time.Time
	failures int64
}

// New returns a Tracker of the dependency called name ("postgres",
// "redis"), logging to log.
func New(log *slog.Logger, name string) *Tracker {
	return &Tracker{log: log, name: name, now: time.Now}
}

// Name is the dependency's name as logged.
func (t *Tracker) Name() string { return t.name }

// Down reports whether the last call seen failed.
func (t *Tracker) Down() bool { return t.down.Load() }

// Fail records a call the dependency did not answer. The first failure of
// an outage logs "dependency unavailable" (warn) with its error; later
// ones are only counted.
func (t *Tracker) Fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures++
	if t.down.Load() {
		return
	}
	t.since = t.now()
	t.down.Store(true)
	t.log.LogAttrs(context.Background(), slog.LevelWarn, "dependency unavailable",
		slog.String("dependency", t.name), slog.String("err", errString(err)))
}

// OK records a call the dependency answered. The first one after an
// outage logs "dependency available again" (info) with the outage's
// duration and the number of calls that failed in it.
func (t *Tracker) OK() {
	if !t.down.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.down.Load() {
		return
	}
	d := t.now().Sub(t.since)
	t.log.LogAttrs(context.Background(), slog.LevelInfo, "dependency available again",
		slog.String("dependency", t.name),
		slog.Float64("outage_seconds", d.Seconds()),
		slog.Int64("failed_calls", t.failures))
	t.down.Store(false)
	t.failures = 0
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
