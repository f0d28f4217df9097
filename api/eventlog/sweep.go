package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
)

// rewindScript lowers a conversation's published seq to ARGV[1], or sets
// it when Redis has none; it never raises it. KEYS: the published seq.
// ARGV: seq, key TTL in ms.
var rewindScript = rueidis.NewLuaScript(`
local last = redis.call('GET', KEYS[1])
if (not last) or tonumber(last) > tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0`)

// rewind makes the guard take c's events after seq again: the next Put of
// seq+1 appends it, and a publisher's newer event parks behind it until
// the rewound run catches up (the guard's seq order holds throughout).
func (g *Guard) rewind(ctx context.Context, c id.ID, seq int64) error {
	return g.setPublished(ctx, rewindScript, "rewind", c, seq)
}

// Sweep appends again every event committed since the given time, in seq
// order per conversation, and returns how many it offered. It is for a
// Redis that came back without writes it had acknowledged: a master killed
// before its replica (or its append-only file) had the newest entries, and
// a replica promoted in its place. Those events are marked published, so
// neither the relay nor the guard's seed would take them again, and a
// subscriber would learn of them only from a later event's seq.
//
// Subscribers that had an event already drop the second copy by its seq,
// as the protocol tells them to; the hooks run again, in order, so the
// state that lives beside the stream (member sets) is rebuilt too.
func (r *Relay) Sweep(ctx context.Context, since time.Time) (int, error) {
	firsts, err := r.st.touched(ctx, id.Floor(since))
	if err != nil {
		return 0, err
	}
	n := 0
	var firstErr error
	for _, f := range firsts {
		if err := r.guard.rewind(ctx, f.conv, f.seq-1); err != nil {
			return n, err
		}
		evs, err := r.st.between(ctx, f.conv, f.seq-1, f.last+1)
		if err != nil {
			return n, err
		}
		n += len(evs)
		done, err := r.conversation(ctx, evs, r.swept)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		convs := make([]int64, len(done))
		for i := range convs {
			convs[i] = int64(f.conv)
		}
		if err := r.st.mark(ctx, convs, done); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return n, firstErr
}

// touchedRun is one conversation's run of events since a time: its first
// and last seq.
type touchedRun struct {
	conv      id.ID
	seq, last int64
}

// touched returns the conversations with events created at or after the
// id floor, with the first and last seq of those events.
func (s store) touched(ctx context.Context, since id.ID) ([]touchedRun, error) {
	rows, err := s.db.Query(ctx, `
SELECT conversation_id, min(seq), max(seq) FROM conversation_events
 WHERE id >= $1 GROUP BY conversation_id ORDER BY conversation_id`, int64(since))
	if err != nil {
		return nil, fmt.Errorf("eventlog: events since %s: %w", since, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (touchedRun, error) {
		var t touchedRun
		var conv int64
		err := r.Scan(&conv, &t.seq, &t.last)
		t.conv = id.ID(conv)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("eventlog: events since %s: %w", since, err)
	}
	return out, nil
}
