package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/worker"
	"github.com/chatterly/chatterly/shared/config"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestIdempotencyKeysAreTrimmedPastTheKeep starts a worker on a database
// holding keys of three ages: the one older than the keep is gone after
// the trim job's first run, the one past message.IdempotencyKeyTTL but
// within the keep and the fresh one stay. Two hours later by the worker's
// clock the second one has passed the keep and goes too.
func TestIdempotencyKeysAreTrimmedPastTheKeep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, time.Minute)
	now := time.Now()
	ages := map[string]time.Duration{"old": 49 * time.Hour, "within": 47 * time.Hour, "fresh": 0}
	for key, age := range ages {
		_, err := e.db.Exec(ctx, `INSERT INTO message_idempotency (user_id, client_msg_id, message_id, created_at)
VALUES ($1, $2, $3, $4)`, 1, key, int64(e.ids.Next()), now.Add(-age))
		require.NoError(t, err)
	}
	keys := func() []string {
		rows, err := e.db.Query(ctx, `SELECT client_msg_id FROM message_idempotency ORDER BY created_at`)
		require.NoError(t, err)
		ks, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return ks
	}
	require.Equal(t, []string{"old", "within", "fresh"}, keys())

	var clk clock
	r := e.start(t, nil, clk.now)
	require.Eventually(t, func() bool { return e.completed(t, "idempotency_key_trim") >= 1 }, 15*time.Second, 20*time.Millisecond,
		"the trim runs when the worker starts")
	require.Equal(t, []string{"within", "fresh"}, keys(), "the default keep is 48h, not the 24h minimum")

	clk.offset.Store(int64(2 * time.Hour))
	_, err := r.Jobs().Insert(ctx, worker.KeysArgs{}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.completed(t, "idempotency_key_trim") >= 2 }, 15*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"fresh"}, keys())
}

func TestIdempotencyKeyRetentionIsAtLeastADay(t *testing.T) {
	t.Parallel()
	cfg, err := worker.LoadConfig(config.FromMap(nil))
	require.NoError(t, err)
	require.Equal(t, 48*time.Hour, cfg.KeyRetention)
	cfg, err = worker.LoadConfig(config.FromMap(map[string]string{"IDEMPOTENCY_KEY_RETENTION": "24h"}))
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, cfg.KeyRetention)
	_, err = worker.LoadConfig(config.FromMap(map[string]string{"IDEMPOTENCY_KEY_RETENTION": "23h59m"}))
	require.ErrorContains(t, err, "IDEMPOTENCY_KEY_RETENTION")
}
