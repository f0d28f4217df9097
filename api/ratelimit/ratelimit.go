// Package ratelimit counts requests in Redis, per limit and subject (user,
// account, client address), in fixed one-window counters. It is shared by
// every api process, so a limit holds across a fleet.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// Rule is one limit: at most Max hits per Window.
type Rule struct {
	Name   string
	Max    int
	Window time.Duration
}

// Limiter checks rules against Redis.
type Limiter struct {
	rdb  rueidis.Client
	keys rkey.Space
}

// New returns a Limiter.
func New(rdb rueidis.Client, keys rkey.Space) *Limiter { return &Limiter{rdb: rdb, keys: keys} }

// hit increments the window's counter, starting the window on the first hit,
// and returns the count and the milliseconds left in the window.
var hit = rueidis.NewLuaScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`)

// Allow records a hit of subject against r. Over the limit it returns a
// rate_limited fault carrying Retry-After.
func (l *Limiter) Allow(ctx context.Context, r Rule, subject string) error {
	vals, err := hit.Exec(ctx, l.rdb, []string{l.keys.RateLimit(r.Name, subject)},
		[]string{fmt.Sprint(r.Window.Milliseconds())}).AsIntSlice()
	if err != nil || len(vals) != 2 {
		return &fault.Error{Code: fault.Unavailable, Message: "rate limiter unavailable", Err: err}
	}
	if vals[0] > int64(r.Max) {
		return &fault.Error{Code: fault.RateLimited, Message: "too many requests; try again later",
			RetryAfter: time.Duration(vals[1]) * time.Millisecond}
	}
	return nil
}

// Reset forgets subject's hits against r (e.g. after a successful login).
func (l *Limiter) Reset(ctx context.Context, r Rule, subject string) error {
	return l.rdb.Do(ctx, l.rdb.B().Del().Key(l.keys.RateLimit(r.Name, subject)).Build()).Error()
}
