package ratelimit

import (
	"context"
	"strconv"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/redis/rueidis"
)

// Backoff is a progressive hold on a subject that keeps failing (a wrong
// password from one address for one account): its first Free failures
// cost nothing; the Free-th starts a wait of First, and every further
// failure, or attempt made while waiting, doubles the wait, up to Max. The
// count is forgotten Forget after the last wait ends, or on Reset.
type Backoff struct {
	Name   string
	Free   int
	First  time.Duration
	Max    time.Duration
	Forget time.Duration
}

// backoff keeps, per subject, a hash {n: failures, until: unix ms}. ARGV:
// now (ms), fail (1: record a failure; 0: only check), free, first (ms),
// max (ms), forget (ms). While a wait runs, any call counts as a failure
// and extends it. Returns the ms to wait (0: go ahead).
var backoff = rueidis.NewLuaScript(`
local now, fail = tonumber(ARGV[1]), ARGV[2] == '1'
local free, first, max, forget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local held = tonumber(redis.call('HGET', KEYS[1], 'until') or '0') > now
if not held and not fail then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local wait = 0
if n >= free then
  wait = math.min(first * 2 ^ (n - free), max)
  redis.call('HSET', KEYS[1], 'until', now + wait)
end
redis.call('PEXPIRE', KEYS[1], wait + forget)
if held then return wait end
return 0`)

// Hold returns a rate_limited fault with Retry-After while subject is held
// off, extending the hold (an attempt while waiting is one more failure);
// nil otherwise.
func (l *Limiter) Hold(ctx context.Context, b Backoff, subject string, now time.Time) error {
	return l.backoff(ctx, b, subject, now, false)
}

// Fail records a failure of subject; the one that reaches b.Free starts
// the hold that the next Hold reports.
func (l *Limiter) Fail(ctx context.Context, b Backoff, subject string, now time.Time) error {
	return l.backoff(ctx, b, subject, now, true)
}

// Forget clears subject's failures (after a success).
func (l *Limiter) Forget(ctx context.Context, b Backoff, subject string) error {
	return l.Reset(ctx, Rule{Name: b.Name}, subject)
}

func (l *Limiter) backoff(ctx context.Context, b Backoff, subject string, now time.Time, fail bool) error {
	f := "0"
	if fail {
		f = "1"
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	wait, err := backoff.Exec(ctx, l.rdb, []string{l.keys.RateLimit(b.Name, subject)},
		[]string{strconv.FormatInt(now.UnixMilli(), 10), f, strconv.Itoa(b.Free), ms(b.First), ms(b.Max), ms(b.Forget)}).AsInt64()
	if err != nil {
		return &fault.Error{Code: fault.Unavailable, Message: "rate limiter unavailable", Err: err}
	}
	if wait > 0 {
		return &fault.Error{Code: fault.RateLimited, Message: "too many failed attempts; try again later",
			RetryAfter: time.Duration(wait) * time.Millisecond}
	}
	return nil
}
