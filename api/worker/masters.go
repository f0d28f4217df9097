package worker

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// MasterWatch notices when a master of the streams' Redis is not the
// process it was: restarted (its run_id changed) or replaced by a promoted
// replica. Either may lack the newest entries it had acknowledged (the
// append-only file and replication are asynchronous), entries the relay
// will never take again because they are marked published. On such a
// change it sweeps: every event committed since a moment before the
// change could have started is appended again (eventlog.Relay.Sweep), so a
// subscriber gets it live instead of from a later event's seq.
type MasterWatch struct {
	rdb    rueidis.Client
	sweep  func(ctx context.Context, since time.Time) (int, error)
	now    func() time.Time
	every  time.Duration
	window time.Duration
	log    *slog.Logger

	known  map[string]bool // the run_ids of the masters last seen whole
	seenAt time.Time       // when every one of them last answered
}

// NewMasterWatch polls rdb's nodes every interval; window is how far
// before the last moment every known master answered a sweep reaches (the
// most a replica or the append-only file may lag).
func NewMasterWatch(rdb rueidis.Client, sweep func(context.Context, time.Time) (int, error), now func() time.Time,
	every, window time.Duration, log *slog.Logger) *MasterWatch {
	return &MasterWatch{rdb: rdb, sweep: sweep, now: now, every: every, window: window, log: log}
}

// Run polls until ctx ends.
func (m *MasterWatch) Run(ctx context.Context) {
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check polls once and sweeps when a master is new. The first poll only
// learns the masters: a worker that starts after a failover did not see it.
func (m *MasterWatch) Check(ctx context.Context) {
	now := m.now()
	masters, whole := m.masters(ctx)
	if len(masters) == 0 {
		return
	}
	var fresh []string
	for r := range masters {
		if !m.known[r] {
			fresh = append(fresh, r)
		}
	}
	if m.known == nil || len(fresh) == 0 {
		if m.known == nil || whole && len(masters) >= len(m.known) {
			m.known, m.seenAt = masters, now
		}
		return
	}
	since := m.seenAt.Add(-m.window)
	sort.Strings(fresh)
	n, err := m.sweep(ctx, since)
	if err != nil {
		// Known stays as it was: the next poll sweeps again.
		m.log.WarnContext(ctx, "sweep after a redis master change failed; retrying", "new_masters", strings.Join(fresh, ","), "err", err)
		return
	}
	m.log.InfoContext(ctx, "redis master restarted or replaced: events since then appended again",
		"new_masters", strings.Join(fresh, ","), "since", since.UTC().Format(time.RFC3339Nano), "events", n)
	m.known, m.seenAt = masters, now
}

// masters returns the run_ids of the nodes that answer as masters, and
// whether every node rdb knows answered.
func (m *MasterWatch) masters(ctx context.Context) (map[string]bool, bool) {
	out := map[string]bool{}
	whole := true
	for _, n := range m.rdb.Nodes() {
		ctx, cancel := context.WithTimeout(ctx, m.every)
		info, err := n.Do(ctx, n.B().Info().Section("server", "replication").Build()).ToString()
		cancel()
		if err != nil {
			whole = false
			continue
		}
		if rkey.InfoField(info, "role") == "master" {
			out[rkey.InfoField(info, "run_id")] = true
		}
	}
	return out, whole
}
