package eventlog

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultRetention is how long the log keeps events when EVENT_RETENTION is
// not set: long enough for a laptop closed over a holiday to catch up by
// replay rather than reload.
const DefaultRetention = 30 * 24 * time.Hour

// trimBatch bounds one DELETE, so trimming never holds many row locks or
// one long transaction.
const trimBatch = 5000

// Trim deletes every event created before now minus retention, in batches,
// and returns how many it deleted. Event ids are time-ordered, so "created
// before" is "id below id.Floor". A client whose after_seq falls in the
// trimmed range is told to resync by Replay. The worker schedules it.
func Trim(ctx context.Context, db *pgxpool.Pool, now time.Time, retention time.Duration) (int64, error) {
	st := store{db}
	before := id.Floor(now.Add(-retention))
	var total int64
	for {
		n, err := st.trim(ctx, before, trimBatch)
		total += n
		if err != nil {
			return total, err
		}
		if n < trimBatch {
			return total, st.trimOutbox(ctx, before)
		}
	}
}
