// Package authz answers the edge's authorization questions from the Redis
// state the api keeps current: conversation member sets (for subscribing
// to a ConversationChannel) and live calls' participant sets (for
// send_signal). Reads go through rueidis client-side caching, so a
// repeated question is answered from process memory and Redis invalidates
// that memory the moment the api changes the set. Postgres is never asked.
package authz

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// Answer is a membership answer.
type Answer uint8

// The answers. Unknown means the member set is missing: the api rebuilds a
// missing set from Postgres, so the edge asks again later (the official
// client re-sends subscribe every 500 ms until it hears back) rather than
// rejecting a member.
const (
	No Answer = iota
	Yes
	Unknown
)

// memberSentinel is the member every existing member set holds (the api's
// contract: no user has id 0), so a set's existence is itself a cached
// SISMEMBER.
const memberSentinel = "0"

// Checker reads the sets.
type Checker struct {
	rdb  rueidis.Client
	keys rkey.Space
	// ttl bounds a cached answer's life should an invalidation be lost.
	ttl time.Duration
}

// New returns a Checker on rdb.
func New(rdb rueidis.Client, keys rkey.Space) *Checker {
	return &Checker{rdb: rdb, keys: keys, ttl: time.Minute}
}

// Member reports whether user is a member of conversation conv.
func (c *Checker) Member(ctx context.Context, conv, user id.ID) (Answer, error) {
	key := c.keys.Members(conv)
	res := c.rdb.DoMultiCache(ctx,
		rueidis.CT(c.rdb.B().Sismember().Key(key).Member(user.String()).Cache(), c.ttl),
		rueidis.CT(c.rdb.B().Sismember().Key(key).Member(memberSentinel).Cache(), c.ttl))
	is, err := res[0].AsBool()
	if err != nil {
		return No, fmt.Errorf("authz: member set %s: %w", conv, err)
	}
	if is {
		return Yes, nil
	}
	exists, err := res[1].AsBool()
	if err != nil {
		return No, fmt.Errorf("authz: member set %s: %w", conv, err)
	}
	if !exists {
		return Unknown, nil
	}
	return No, nil
}

// CallPeers reports whether from and to are the two participants of the
// calling, ringing or active call (the set exists only while it is live).
func (c *Checker) CallPeers(ctx context.Context, call, from, to id.ID) (bool, error) {
	if from == to {
		return false, nil
	}
	members, err := c.rdb.DoCache(ctx, c.rdb.B().Smembers().Key(c.keys.CallParticipants(call)).Cache(), c.ttl).AsStrSlice()
	if err != nil {
		return false, fmt.Errorf("authz: call %s participants: %w", call, err)
	}
	var hasFrom, hasTo bool
	f, t := from.String(), to.String()
	for _, m := range members {
		hasFrom = hasFrom || m == f
		hasTo = hasTo || m == t
	}
	return hasFrom && hasTo, nil
}
