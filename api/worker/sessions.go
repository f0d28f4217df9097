package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/auth"
	"github.com/riverqueue/river"
)

// SessionsArgs is the session trim job: sessions that ended (logged out,
// revoked, or past their refresh expiry) more than the keep ago leave
// auth_sessions, with their refresh tokens.
type SessionsArgs struct{ maintenance }

// Kind is the job's River kind.
func (SessionsArgs) Kind() string { return "session_trim" }

// SessionsWorker works SessionsArgs.
type SessionsWorker struct {
	maintenanceWorker[SessionsArgs]
	st   store
	now  func() time.Time
	keep time.Duration
	log  *slog.Logger
}

// Work deletes the sessions that ended before now minus the keep.
func (w *SessionsWorker) Work(ctx context.Context, job *river.Job[SessionsArgs]) error {
	horizon := w.now().Add(-w.keep)
	n, err := auth.TrimSessions(ctx, w.st.db, horizon)
	if err != nil {
		w.log.WarnContext(ctx, "session trim failed; River will retry", "attempt", job.Attempt, "err", err)
		return err
	}
	w.log.InfoContext(ctx, "session trim", "horizon", horizon.UTC().Format(time.RFC3339), "sessions_deleted", n)
	return nil
}
