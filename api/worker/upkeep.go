package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// maintenanceQueue is the River queue of the periodic upkeep jobs, apart
// from the calls queue so they never delay a missed call.
const maintenanceQueue = "maintenance"

// upkeepTimeout bounds one upkeep or retention run: moving rows out of a
// default partition, or trimming a large log, takes longer than River's
// default minute.
const upkeepTimeout = 10 * time.Minute

// pendingStates are the states in which a queued periodic job makes a new
// one of the same kind redundant.
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// maintenance, embedded in a periodic job's args, puts the job on the
// maintenance queue; a periodic run that is still waiting makes another
// one pointless, hence unique by state.
type maintenance struct{}

// InsertOpts are the options of every maintenance job.
func (maintenance) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: maintenanceQueue, UniqueOpts: river.UniqueOpts{ByState: pendingStates}}
}

// maintenanceWorker, embedded in a maintenance job's worker, gives it
// River's defaults but for the timeout, which is upkeepTimeout.
type maintenanceWorker[T river.JobArgs] struct{ river.WorkerDefaults[T] }

// Timeout lets one run take upkeepTimeout.
func (maintenanceWorker[T]) Timeout(*river.Job[T]) time.Duration { return upkeepTimeout }

// PartitionsArgs is the partition upkeep job. It has no arguments: each run
// makes sure the current month and the next MonthsAhead months have their
// partitions, so a partition exists long before its first row.
type PartitionsArgs struct{ maintenance }

// Kind is the job's River kind.
func (PartitionsArgs) Kind() string { return "partition_upkeep" }

// PartitionsWorker works PartitionsArgs.
type PartitionsWorker struct {
	maintenanceWorker[PartitionsArgs]
	st     store
	now    func() time.Time
	months int
	log    *slog.Logger
}

// Work ensures the partitions of every partitioned table for the month of
// now and the months after it.
func (w *PartitionsWorker) Work(ctx context.Context, job *river.Job[PartitionsArgs]) error {
	now := w.now()
	for _, t := range partitioned {
		made, err := w.st.ensurePartitions(ctx, t, now, w.months+1)
		if err != nil {
			w.log.WarnContext(ctx, "partition upkeep failed; River will retry", "table", t, "attempt", job.Attempt, "err", err)
			return err
		}
		w.log.InfoContext(ctx, "partition upkeep", "table", t, "from", now.UTC().Format("2006-01"),
			"months", w.months+1, "created", made)
	}
	return nil
}
