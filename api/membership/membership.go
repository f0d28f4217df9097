// Package membership keeps each conversation's member set in Redis
// (rkey.Members) for the edge, which authorizes a ConversationChannel
// subscription with SISMEMBER, read through client-side caching, without
// asking Postgres.
//
// Contract with the edge. A set that exists holds the member user ids and
// the sentinel "0" (no user has id 0), so it exists even for a conversation
// with no members left; a missing set means "not known", never "no
// members": the api rebuilds it from Postgres when it finds it missing
// (Ensure, Check), and the edge may ask again a moment later. Membership is
// changed in Postgres first; the set follows right after commit, in the same
// code path (Add, Remove), before the member.joined / member.left event is
// published, so an edge that sees member.left finds the user already gone
// from the set.
//
// Should the process die between commit and the set change, the relay
// republishes the unmarked member event and its hook (RelayHook) rebuilds
// the set first, so a crash leaves the set wrong only until the relay's
// next pass.
package membership

import (
	"context"
	"errors"
	"fmt"
	"github.com/chatterly/chatterly/api/cache"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Sentinel is the member every existing set holds.
const Sentinel = "0"

// localTTL bounds how long a client-side cached answer lives without an
// invalidation from Redis (which normally arrives at once).
const localTTL = time.Minute

// changeScript adds (ARGV[1] == "add") or removes the users ARGV[2..] when
// the set exists and returns 1; a missing set is left for a rebuild (0).
var changeScript = rueidis.NewLuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV do
  if ARGV[1] == 'add' then redis.call('SADD', KEYS[1], ARGV[i]) else redis.call('SREM', KEYS[1], ARGV[i]) end
end
return 1`)

// fillScript writes the set from ARGV[2..] (the sentinel included): always
// when ARGV[1] == "replace", only when the set is missing otherwise.
var fillScript = rueidis.NewLuaScript(`
if ARGV[1] ~= 'replace' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 2, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
return 1`)

// Sets keeps the member sets.
type Sets struct {
	rdb  rueidis.Client
	keys rkey.Space
	// recent holds sets this process changed a moment ago: Check reads
	// them from Redis until their invalidation has surely arrived.
	recent cache.Recent
	db     *pgxpool.Pool
}

// New returns Sets on rdb, rebuilt from db (the primary).
func New(rdb rueidis.Client, keys rkey.Space, db *pgxpool.Pool) *Sets {
	return &Sets{rdb: rdb, keys: keys, db: db}
}

// Add puts users into c's set after the transaction that made them members
// committed.
func (s *Sets) Add(ctx context.Context, c id.ID, users ...id.ID) error {
	return s.change(ctx, c, "add", users)
}

// Remove takes users out of c's set after the transaction that removed
// them committed.
func (s *Sets) Remove(ctx context.Context, c id.ID, users ...id.ID) error {
	return s.change(ctx, c, "rem", users)
}

func (s *Sets) change(ctx context.Context, c id.ID, op string, users []id.ID) error {
	args := make([]string, 0, len(users)+1)
	args = append(args, op)
	for _, u := range users {
		args = append(args, u.String())
	}
	s.recent.Wrote(s.keys.Members(c))
	ok, err := changeScript.Exec(ctx, s.rdb, []string{s.keys.Members(c)}, args).AsInt64()
	if err != nil {
		return fmt.Errorf("membership: %s members of %s: %w", op, c, err)
	}
	if ok == 0 {
		// The set is missing: rebuilt from Postgres, which already holds
		// this change.
		return s.fill(ctx, c, false)
	}
	return nil
}

// Check reports whether user is in c's set, rebuilding a missing set first.
// Answers come from the client-side cache when Redis has not invalidated
// them.
func (s *Sets) Check(ctx context.Context, c, user id.ID) (bool, error) {
	for attempt := 0; ; attempt++ {
		var res rueidis.RedisResult
		if key := s.keys.Members(c); s.recent.Cacheable(key) {
			res = s.rdb.DoCache(ctx, s.rdb.B().Smismember().Key(key).Member(user.String(), Sentinel).Cache(), localTTL)
		} else {
			res = s.rdb.Do(ctx, s.rdb.B().Smismember().Key(key).Member(user.String(), Sentinel).Build())
		}
		vals, err := res.AsIntSlice()
		if err != nil || len(vals) != 2 {
			return false, fmt.Errorf("membership: check %s in %s: %w", user, c, err)
		}
		if vals[1] == 1 || attempt > 0 {
			return vals[0] == 1, nil
		}
		if err := s.fill(ctx, c, false); err != nil {
			return false, err
		}
	}
}

// Ensure rebuilds c's set from Postgres when it is missing.
func (s *Sets) Ensure(ctx context.Context, c id.ID) error { return s.fill(ctx, c, false) }

// Rebuild replaces c's set with Postgres' members of c.
func (s *Sets) Rebuild(ctx context.Context, c id.ID) error { return s.fill(ctx, c, true) }

// fill reads c's members and writes the set while holding a share lock on
// the conversation row. Every membership change updates that row (its
// event's seq) and so waits for the lock: a change committed before the
// read is in it, and one committed after applies its own Add or Remove to
// the set this wrote. Without the lock a rebuild could read, lose the race
// to a removal's SREM, and then write the removed member back.
func (s *Sets) fill(ctx context.Context, c id.ID, replace bool) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR SHARE`, int64(c)).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			s.recent.Wrote(s.keys.Members(c))
			return s.rdb.Do(ctx, s.rdb.B().Del().Key(s.keys.Members(c)).Build()).Error()
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT user_id FROM memberships WHERE conversation_id = $1`, int64(c))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		mode := "missing"
		if replace {
			mode = "replace"
		}
		args := make([]string, 0, len(ids)+2)
		args = append(args, mode, Sentinel)
		for _, u := range ids {
			args = append(args, strconv.FormatInt(u, 10))
		}
		s.recent.Wrote(s.keys.Members(c))
		return fillScript.Exec(ctx, s.rdb, []string{s.keys.Members(c)}, args).Error()
	})
	if err != nil {
		return fmt.Errorf("membership: rebuild members of %s: %w", c, err)
	}
	return nil
}

// RelayHook rebuilds the member set of a conversation before the relay
// republishes one of its member events: the set change that belonged with
// that event may have been lost with the process that committed it.
func (s *Sets) RelayHook() eventlog.Hook {
	return func(ctx context.Context, e eventlog.Event) error {
		if e.Type != event.MemberJoined && e.Type != event.MemberLeft {
			return nil
		}
		return s.Rebuild(ctx, e.ConversationID)
	}
}
