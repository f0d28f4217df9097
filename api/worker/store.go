package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// All of the worker's own SQL (the event log's is eventlog's, the calls'
// is call's). Times come from the caller's clock.

// store runs the worker's queries on the primary.
type store struct{ db *pgxpool.Pool }

// partitioned are the tables range-partitioned by month of id.
var partitioned = []string{"messages", "conversation_events"}

// ensurePartitions makes the monthly partitions of parent for count months
// from the month of from (chatterly_ensure_partitions, in the first
// migration, which also moves rows that landed in the default partition
// into their new month) and returns how many it made.
func (s store) ensurePartitions(ctx context.Context, parent string, from time.Time, count int) (int, error) {
	var made int
	err := s.db.QueryRow(ctx, `SELECT chatterly_ensure_partitions($1, $2, $3)`, parent, from, count).Scan(&made)
	if err != nil {
		return 0, fmt.Errorf("ensure partitions of %s: %w", parent, err)
	}
	return made, nil
}

// partitionsBefore lists the monthly partitions of parent whose every id is
// below before (their upper bound is at most before), oldest first. The
// default partition has no bound and is never listed.
func (s store) partitionsBefore(ctx context.Context, parent string, before id.ID) ([]string, error) {
	rows, err := s.db.Query(ctx, `
SELECT p.relname FROM pg_inherits i
  JOIN pg_class p ON p.oid = i.inhrelid
 WHERE i.inhparent = to_regclass($1)
   AND pg_get_expr(p.relpartbound, p.oid) LIKE 'FOR VALUES FROM (%) TO (%)'
   AND substring(pg_get_expr(p.relpartbound, p.oid) FROM 'TO \(''?(-?[0-9]+)''?\)')::bigint <= $2
 ORDER BY p.relname`, parent, int64(before))
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s: %w", parent, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s: %w", parent, err)
	}
	return names, nil
}

// dropPartition drops one partition. Dropping needs an exclusive lock on
// the parent for a moment; lock_timeout makes it give up (and retry at the
// next run) rather than queue behind a long transaction with every writer
// of the table queued behind it.
func (s store) dropPartition(ctx context.Context, name string) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{name}.Sanitize())
		return err
	})
	if err != nil {
		return fmt.Errorf("drop partition %s: %w", name, err)
	}
	return nil
}

// jobCounts counts River's jobs by kind and state. River deletes finished
// jobs after a day (completed) or a week (cancelled, discarded), so the
// table stays the size of a few days of calls.
func (s store) jobCounts(ctx context.Context) (map[[2]string]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	out := map[[2]string]int64{}
	var kind, state string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&kind, &state, &n}, func() error {
		out[[2]string{kind, state}] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return out, nil
}
