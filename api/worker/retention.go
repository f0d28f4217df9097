package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/riverqueue/river"
)

// RetentionArgs is the event retention job: conversation events older than
// the retention are dropped, after which a replay from before the horizon
// answers 410 resync_required (eventlog.Replay).
type RetentionArgs struct{ maintenance }

// Kind is the job's River kind.
func (RetentionArgs) Kind() string { return "event_retention" }

// RetentionWorker works RetentionArgs.
type RetentionWorker struct {
	maintenanceWorker[RetentionArgs]
	st        store
	now       func() time.Time
	retention time.Duration
	log       *slog.Logger
}

// Work drops whole monthly partitions of the log that lie entirely before
// the horizon (cheap: no row is visited, no bloat is left), then trims the
// rows before the horizon that remain (the partition the horizon falls in,
// and the default partition) with eventlog.Trim.
func (w *RetentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	now := w.now()
	horizon := now.Add(-w.retention)
	log := w.log.With("horizon", horizon.UTC().Format(time.RFC3339), "attempt", job.Attempt)
	old, err := w.st.partitionsBefore(ctx, "conversation_events", id.Floor(horizon))
	if err != nil {
		log.WarnContext(ctx, "event retention failed; River will retry", "err", err)
		return err
	}
	for _, p := range old {
		if err := w.st.dropPartition(ctx, p); err != nil {
			log.WarnContext(ctx, "event retention failed; River will retry", "err", err)
			return err
		}
		log.InfoContext(ctx, "event retention: dropped a partition", "partition", p)
	}
	n, err := eventlog.Trim(ctx, w.st.db, now, w.retention)
	if err != nil {
		log.WarnContext(ctx, "event retention failed; River will retry", "deleted", n, "err", err)
		return err
	}
	log.InfoContext(ctx, "event retention", "partitions_dropped", len(old), "events_deleted", n)
	return nil
}
