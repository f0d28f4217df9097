package eventlog

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// guardScript appends a conversation's events to its shard stream in seq
// order. KEYS: the shard stream, the conversation's published seq, its
// parked events (a hash seq -> envelope); all three share the stream's hash
// tag. ARGV: seq, topic, envelope, approximate MAXLEN, key TTL in ms, seed
// ("" for none).
//
//   - no published seq and no seed: {-1}: the caller seeds it from Postgres
//     and calls again;
//   - seq <= published: {0, published}: a duplicate, nothing appended;
//   - seq > published + 1: {1, published}: parked until the gap fills;
//   - seq == published + 1: {2, seq, ...}: appended, then every parked
//     successor in order; the reply lists every seq appended.
//
// The published seq and the parked hash expire after the TTL of silence;
// an expired published seq is seeded again, so the TTL costs a Postgres
// query for a conversation that wakes up, never an event.
var guardScript = rueidis.NewLuaScript(`
local seq = tonumber(ARGV[1])
local last = redis.call('GET', KEYS[2])
if last then
  last = tonumber(last)
elseif ARGV[6] ~= '' then
  last = tonumber(ARGV[6])
  redis.call('SET', KEYS[2], last, 'PX', ARGV[5])
else
  return {-1}
end
if seq <= last then
  return {0, last}
end
if seq > last + 1 then
  redis.call('HSET', KEYS[3], tostring(seq), ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
  return {1, last}
end
local out = {2, seq}
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', '` + event.FieldTopic + `', ARGV[2], '` + event.FieldEnvelope + `', ARGV[3])
redis.call('HDEL', KEYS[3], tostring(seq))
last = seq
while true do
  local f = tostring(last + 1)
  local nxt = redis.call('HGET', KEYS[3], f)
  if not nxt then break end
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', '` + event.FieldTopic + `', ARGV[2], '` + event.FieldEnvelope + `', nxt)
  redis.call('HDEL', KEYS[3], f)
  last = last + 1
  out[#out + 1] = last
end
redis.call('SET', KEYS[2], last, 'PX', ARGV[5])
return out`)

// advanceScript moves a conversation's published seq forward to ARGV[1]
// (never back), for a gap whose events no longer exist anywhere.
var advanceScript = rueidis.NewLuaScript(`
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > last then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return tonumber(ARGV[1])
end
return last`)

// Status is what the guard did with one event.
type Status int

// The guard's answers.
const (
	// Appended: the event, and Outcome.Appended lists every seq the call
	// put on the stream (the event's and any parked successors').
	Appended Status = iota + 1
	// Duplicate: the stream already carries the seq; nothing appended.
	Duplicate
	// Parked: a predecessor is missing; the event waits in Redis until the
	// late publisher or the relay appends the predecessor.
	Parked
)

// Outcome is the guard's answer for one event.
type Outcome struct {
	Status Status
	// Published is the conversation's published seq after the call.
	Published int64
	// Appended lists the seqs appended by this call, in order.
	Appended []int64
}

// Sink puts events on their shard stream in seq order. Guard is the real
// one; a test wraps it to fail, as Redis would between commit and XADD.
type Sink interface {
	Put(ctx context.Context, e Event) (Outcome, error)
}

// Guard is the Redis Sink: the guard script, seeded from Postgres when the
// conversation's published seq is missing.
type Guard struct {
	rdb    rueidis.Client
	keys   rkey.Space
	maxLen string
	ttl    string
	st     store
}

// GuardKeyTTL is how long a conversation's published seq and parked events
// live in Redis without a new event.
const GuardKeyTTL = 24 * time.Hour

// NewGuard returns a Guard appending to the streams of keys on rdb (the
// streams client), trimming each stream to about maxLen entries, seeding
// from db (the primary).
func NewGuard(rdb rueidis.Client, keys rkey.Space, maxLen int, db *pgxpool.Pool) *Guard {
	return &Guard{rdb: rdb, keys: keys, maxLen: strconv.Itoa(maxLen),
		ttl: strconv.FormatInt(GuardKeyTTL.Milliseconds(), 10), st: store{db}}
}

// Put runs the guard script for e, seeding the published seq first when
// Redis has none for the conversation.
func (g *Guard) Put(ctx context.Context, e Event) (Outcome, error) {
	out, err := g.exec(ctx, e, "")
	if err == nil && out == nil {
		var seed int64
		if seed, err = g.st.seed(ctx, e.ConversationID); err != nil {
			return Outcome{}, err
		}
		out, err = g.exec(ctx, e, strconv.FormatInt(seed, 10))
	}
	if err != nil {
		return Outcome{}, err
	}
	if out == nil {
		return Outcome{}, fmt.Errorf("eventlog: guard of %s asked for a seed twice", e.ConversationID)
	}
	return *out, nil
}

// exec runs the script once; a nil Outcome means "seed me".
func (g *Guard) exec(ctx context.Context, e Event, seed string) (*Outcome, error) {
	c := e.ConversationID
	topic := e.Topic()
	keys := []string{g.keys.Stream(g.keys.ShardOf(topic)), g.keys.PublishedSeq(c), g.keys.PendingSeq(c)}
	args := []string{strconv.FormatInt(e.Seq, 10), topic, string(e.Envelope), g.maxLen, g.ttl, seed}
	vals, err := guardScript.Exec(ctx, g.rdb, keys, args).AsIntSlice()
	if err != nil {
		return nil, fmt.Errorf("eventlog: publish %s seq %d: %w", c, e.Seq, err)
	}
	switch {
	case len(vals) == 1 && vals[0] == -1:
		return nil, nil
	case len(vals) == 2 && vals[0] == 0:
		return &Outcome{Status: Duplicate, Published: vals[1]}, nil
	case len(vals) == 2 && vals[0] == 1:
		return &Outcome{Status: Parked, Published: vals[1]}, nil
	case len(vals) >= 2 && vals[0] == 2:
		return &Outcome{Status: Appended, Published: vals[len(vals)-1], Appended: vals[1:]}, nil
	}
	return nil, fmt.Errorf("eventlog: publish %s seq %d: unexpected guard reply %v", c, e.Seq, vals)
}

// advance moves c's published seq forward to seq, for a gap that cannot be
// filled because its events were trimmed from the log.
func (g *Guard) advance(ctx context.Context, c id.ID, seq int64) error {
	return g.setPublished(ctx, advanceScript, "advance", c, seq)
}

// setPublished runs script, one of those that move c's published seq, to
// seq.
func (g *Guard) setPublished(ctx context.Context, script *rueidis.Lua, what string, c id.ID, seq int64) error {
	err := script.Exec(ctx, g.rdb, []string{g.keys.PublishedSeq(c)},
		[]string{strconv.FormatInt(seq, 10), g.ttl}).Error()
	if err != nil {
		return fmt.Errorf("eventlog: %s %s to %d: %w", what, c, seq, err)
	}
	return nil
}
