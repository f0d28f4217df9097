package call

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Effects is what a move changes outside Postgres, after its commit:
//
//   - the participant set (rkey.CallParticipants), which the edge checks
//     before it relays a send_signal: it holds the caller's and the
//     callee's ids while the call is calling, ringing or active, and is
//     deleted when the call ends, is declined or missed. The set is written
//     before the events go out, so a callee told of an incoming call can
//     signal at once, and a participant told the call ended finds the
//     set already gone;
//   - the call event on the participants' user topics, without seq (the
//     DM-log copy carries the seq): call.incoming to the callee only,
//     every later one to both, so CallChannel delivers them even when the
//     DM is not open. Clients apply them idempotently by (call id, status).
//
// Ordering. Two moves of one call commit in order, but their processes
// could reach Redis in the other order (an accept's SADD landing after
// the end's DEL would leave a finished call signalable). So Apply holds a
// share lock on the call's row while it writes Redis, and writes what the
// row says then, not what the move said: a later move's UPDATE waits for
// the lock, so its own Apply comes after and wins. A move whose status is
// already superseded sends no event (the later move's event supersedes
// it; the DM log keeps the whole history).
type Effects struct {
	rdb    rueidis.Client
	keys   rkey.Space
	events *event.Appender
	db     *pgxpool.Pool
	now    func() time.Time
}

// NewEffects returns Effects writing the set on rdb (REDIS_URL, where the
// edge reads it) and the events through events (the streams), locking the
// call rows in db (the primary).
func NewEffects(rdb rueidis.Client, keys rkey.Space, events *event.Appender, db *pgxpool.Pool, now func() time.Time) *Effects {
	return &Effects{rdb: rdb, keys: keys, events: events, db: db, now: now}
}

// Apply brings call's participant set in line with its status and, if it
// is still status, sends its event to the user topics. A call that no
// longer exists has nothing to apply.
func (f *Effects) Apply(ctx context.Context, call id.ID, status Status) error {
	err := pgx.BeginFunc(ctx, f.db, func(tx pgx.Tx) error {
		c, err := store{q: tx}.getShared(ctx, call)
		if err != nil {
			return err
		}
		if err := f.syncSet(ctx, c); err != nil {
			return err
		}
		if c.Status != status {
			return nil
		}
		return f.notify(ctx, c)
	})
	if errors.Is(err, errNoCall) {
		return nil
	}
	return err
}

// syncSet writes the set for a live call, deletes it otherwise.
func (f *Effects) syncSet(ctx context.Context, c Call) error {
	key := f.keys.CallParticipants(c.ID)
	cmd := f.rdb.B().Del().Key(key).Build()
	if c.Status.Live() {
		cmd = f.rdb.B().Sadd().Key(key).Member(c.CallerID.String(), c.CalleeID.String()).Build()
	}
	if err := f.rdb.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("call: participant set of %s: %w", c.ID, err)
	}
	return nil
}

// notify appends c's event to the user topics it goes to.
func (f *Effects) notify(ctx context.Context, c Call) error {
	data, err := json.Marshal(Render(c))
	if err != nil {
		return fmt.Errorf("call: encode %s: %w", c.ID, err)
	}
	env, err := event.Encode(event.Envelope{Type: eventOf(c.Status), At: f.now(), Data: data})
	if err != nil {
		return fmt.Errorf("call: encode %s: %w", c.ID, err)
	}
	users := []string{rkey.UserTopic(c.CalleeID)}
	if c.Status != Calling {
		users = append(users, rkey.UserTopic(c.CallerID))
	}
	for _, topic := range users {
		if _, err := f.events.Append(ctx, topic, env); err != nil {
			return fmt.Errorf("call: events of %s: %w", c.ID, err)
		}
	}
	return nil
}

// RelayHook repairs what a move's process may have failed to do after its
// commit, before the relay republishes the move's DM-log event: Apply for
// the call and status the event announces (so an old call.incoming is not
// sent again for a call already over; it would ring a callee for nothing).
func (f *Effects) RelayHook() eventlog.Hook {
	return func(ctx context.Context, e eventlog.Event) error {
		if !strings.HasPrefix(e.Type, "call.") || e.Type == event.CallSignal {
			return nil
		}
		var env struct {
			Data JSON `json:"data"`
		}
		if err := json.Unmarshal(e.Envelope, &env); err != nil {
			return fmt.Errorf("call: relay hook: decode %s seq %d: %w", e.ConversationID, e.Seq, err)
		}
		return f.Apply(ctx, env.Data.ID, env.Data.Status)
	}
}
