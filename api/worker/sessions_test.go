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

// TestEndedSessionsAreTrimmedPastTheKeep starts a worker on a database
// holding sessions in every state. The first trim takes only the sessions
// that ended more than the keep (30 days) ago and whose last access token
// expired by then too, with their refresh tokens; live sessions, recently
// ended ones and one whose access token outlived its end stay. Ten days
// later by the worker's clock the recently revoked one goes too.
func TestEndedSessionsAreTrimmedPastTheKeep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, time.Minute)
	now := time.Now()
	day := 24 * time.Hour
	user := int64(e.ids.Next())
	_, err := e.db.Exec(ctx, `INSERT INTO users (id, email, username, display_name, password_hash)
VALUES ($1, 'trim@example.com', 'trim', 'Trim', 'x')`, user)
	require.NoError(t, err)
	type session struct {
		expires, accessUntil time.Duration // from now
		revoked              *time.Duration
	}
	ago := func(d time.Duration) *time.Duration { d = -d; return &d }
	sessions := map[string]session{
		"live":               {expires: 20 * day, accessUntil: 10 * time.Minute},
		"expired long ago":   {expires: -40 * day, accessUntil: -41 * day},
		"expired lately":     {expires: -5 * day, accessUntil: -6 * day},
		"revoked long ago":   {expires: 10 * day, accessUntil: -35 * day, revoked: ago(35 * day)},
		"revoked lately":     {expires: 10 * day, accessUntil: -25 * day, revoked: ago(25 * day)},
		"access outlived it": {expires: -40 * day, accessUntil: -29 * day},
	}
	ids := map[int64]string{}
	for name, s := range sessions {
		sid := int64(e.ids.Next())
		ids[sid] = name
		var revoked *time.Time
		if s.revoked != nil {
			r := now.Add(*s.revoked)
			revoked = &r
		}
		_, err := e.db.Exec(ctx, `INSERT INTO auth_sessions (id, user_id, expires_at, access_until, revoked_at)
VALUES ($1, $2, $3, $4, $5)`, sid, user, now.Add(s.expires), now.Add(s.accessUntil), revoked)
		require.NoError(t, err)
		_, err = e.db.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id) VALUES ($1, $2)`, []byte(name), sid)
		require.NoError(t, err)
	}
	left := func() []string {
		rows, err := e.db.Query(ctx, `SELECT s.id FROM auth_sessions s JOIN refresh_tokens r ON r.session_id = s.id`)
		require.NoError(t, err)
		sids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		var names []string
		for _, sid := range sids {
			names = append(names, ids[sid])
		}
		var orphans int
		require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens r
 WHERE NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.id = r.session_id)`).Scan(&orphans))
		require.Zero(t, orphans)
		return names
	}

	var clk clock
	r := e.start(t, nil, clk.now)
	require.Eventually(t, func() bool { return e.completed(t, "session_trim") >= 1 }, 15*time.Second, 20*time.Millisecond,
		"the trim runs when the worker starts")
	require.ElementsMatch(t, []string{"live", "expired lately", "revoked lately", "access outlived it"}, left())

	clk.offset.Store(int64(10 * day))
	_, err = r.Jobs().Insert(ctx, worker.SessionsArgs{}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.completed(t, "session_trim") >= 2 }, 15*time.Second, 20*time.Millisecond)
	require.ElementsMatch(t, []string{"live", "expired lately"}, left())
}

func TestSessionRetentionDefaultsToAMonth(t *testing.T) {
	t.Parallel()
	cfg, err := worker.LoadConfig(config.FromMap(nil))
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, cfg.SessionRetention)
	_, err = worker.LoadConfig(config.FromMap(map[string]string{"SESSION_RETENTION": "-1h"}))
	require.ErrorContains(t, err, "SESSION_RETENTION")
}
