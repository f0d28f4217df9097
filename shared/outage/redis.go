package outage

import (
	"context"
	"errors"
	"time"

	"github.com/redis/rueidis"
)

// RedisFailure reports whether err, from a rueidis call, means Redis did
// not answer: a refused or broken connection, a timeout. A cancelled
// context and a client closing at shutdown are the caller's doing, not
// Redis's.
func RedisFailure(err error) bool {
	return !redisAnswered(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, rueidis.ErrClosing)
}

// redisAnswered: nil, a nil reply and an error reply (*rueidis.RedisError,
// such as WRONGTYPE) all came from Redis.
func redisAnswered(err error) bool {
	if err == nil || rueidis.IsRedisNil(err) {
		return true
	}
	// Declared past the common cases: errors.As takes its address, which
	// puts it on the heap, and this runs for every result of every command
	// (a cached read of the conversation list has dozens).
	var re *rueidis.RedisError
	return errors.As(err, &re)
}

// TrackRedis returns c reporting every command's outcome to t. When
// callTimeout is positive, a command whose context has no deadline gets
// one callTimeout away, so no caller waits on a silent Redis for longer
// (a blocking command such as XREAD BLOCK needs a context with a later
// deadline of its own). Commands run by Dedicated clients and Receive are
// neither tracked nor bounded.
func TrackRedis(c rueidis.Client, t *Tracker, callTimeout time.Duration) rueidis.Client {
	return &trackedRedis{Client: c, t: t, timeout: callTimeout}
}

type trackedRedis struct {
	rueidis.Client
	t       *Tracker
	timeout time.Duration
}

// bound gives ctx the call deadline unless it has a deadline already.
func (r *trackedRedis) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.timeout <= 0 {
		return ctx, func() {}
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, r.timeout)
}

func (r *trackedRedis) see(err error) {
	if redisAnswered(err) {
		r.t.OK()
	} else if RedisFailure(err) {
		r.t.Fail(err)
	}
}

// seeAll reports a batch as failed if any of it failed, else as its first
// result.
func (r *trackedRedis) seeAll(rs []rueidis.RedisResult) {
	for _, res := range rs {
		if err := res.Error(); RedisFailure(err) {
			r.t.Fail(err)
			return
		}
	}
	if len(rs) > 0 {
		r.see(rs[0].Error())
	}
}

func (r *trackedRedis) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	res := r.Client.Do(ctx, cmd)
	r.see(res.Error())
	return res
}

func (r *trackedRedis) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	rs := r.Client.DoMulti(ctx, multi...)
	r.seeAll(rs)
	return rs
}

func (r *trackedRedis) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	res := r.Client.DoCache(ctx, cmd, ttl)
	r.see(res.Error())
	return res
}

func (r *trackedRedis) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	ctx, cancel := r.bound(ctx)
	defer cancel()
	rs := r.Client.DoMultiCache(ctx, multi...)
	r.seeAll(rs)
	return rs
}
