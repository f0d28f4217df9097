package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/api/message"
	"github.com/riverqueue/river"
)

// KeysArgs is the idempotency key trim job: the client_msg_ids of message
// sends older than the keep are forgotten, after which a send with one of
// them makes a new message. The keep is at least message.IdempotencyKeyTTL,
// the day within which a client's retry must get its first send back.
type KeysArgs struct{ maintenance }

// Kind is the job's River kind.
func (KeysArgs) Kind() string { return "idempotency_key_trim" }

// KeysWorker works KeysArgs.
type KeysWorker struct {
	maintenanceWorker[KeysArgs]
	st   store
	now  func() time.Time
	keep time.Duration
	log  *slog.Logger
}

// Work deletes the keys made before now minus the keep.
// message.TrimIdempotencyKeys keeps exactly IdempotencyKeyTTL before the
// instant it is given, so it is given now moved back by what the keep adds
// to that TTL.
func (w *KeysWorker) Work(ctx context.Context, job *river.Job[KeysArgs]) error {
	now := w.now()
	n, err := message.TrimIdempotencyKeys(ctx, w.st.db, now.Add(message.IdempotencyKeyTTL-w.keep))
	if err != nil {
		w.log.WarnContext(ctx, "idempotency key trim failed; River will retry", "attempt", job.Attempt, "err", err)
		return err
	}
	w.log.InfoContext(ctx, "idempotency key trim", "horizon", now.Add(-w.keep).UTC().Format(time.RFC3339), "keys_deleted", n)
	return nil
}
