// Package cache is the api's read-through cache: entries live in Redis
// (keys from rkey.Cache) and are read through rueidis client-side caching,
// so a hot entry is answered from process memory and Redis tells every api
// process the moment it changes.
//
// Contract. Writers commit to Postgres, then Invalidate the entries the
// change touches, before they answer: the writer's next read misses and
// loads fresh data (keys it just wrote are read from Redis, see Recent). Readers fill a missing entry
// under a lease: a placeholder set with NX before loading, replaced by the
// value only if it is still the same placeholder. An invalidation that
// lands while the load runs deletes the placeholder, so a value loaded
// before a write is never stored after it. Entries also expire (TTL), a
// bound on staleness should an invalidation be lost with Redis.
//
// Cached values are viewer-neutral: the same bytes serve every caller, and
// per-viewer fields are added by the caller after the cache.
package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// Ref names one entry: its kind (what it holds) and the id it is about.
type Ref struct {
	Kind string
	ID   string
}

// leasePrefix starts a placeholder. Values are JSON and never start with
// a NUL byte.
const leasePrefix = "\x00lease:"

// storeScript replaces the caller's lease with the value; any other content
// (a newer lease, nothing after an invalidation) is left alone.
var storeScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`)

// Config tunes a Cache.
type Config struct {
	// TTL is how long Redis keeps an entry.
	TTL time.Duration
	// LocalTTL bounds how long a process keeps an entry without hearing
	// from Redis (tracking normally invalidates it at once).
	LocalTTL time.Duration
	// Lease bounds how long a reader may take to fill an entry.
	Lease time.Duration
}

// Cache reads entries through the client-side cache.
type Cache struct {
	rdb      rueidis.Client
	keys     rkey.Space
	cfg      Config
	ttl      string
	lease    string
	requests *prometheus.CounterVec

	// fresh holds keys this process wrote a moment ago.
	fresh Recent
}

// read is the GET of key: through process memory unless this process
// wrote key a moment ago.
func (c *Cache) read(ctx context.Context, key string) rueidis.RedisResult {
	if c.fresh.Cacheable(key) {
		return c.rdb.DoCache(ctx, c.rdb.B().Get().Key(key).Cache(), c.cfg.LocalTTL)
	}
	return c.rdb.Do(ctx, c.rdb.B().Get().Key(key).Build())
}

// New returns a Cache on rdb. Metrics go to reg when it is not nil.
func New(rdb rueidis.Client, keys rkey.Space, cfg Config, reg prometheus.Registerer) *Cache {
	c := &Cache{rdb: rdb, keys: keys, cfg: cfg,
		ttl:   strconv.FormatInt(cfg.TTL.Milliseconds(), 10),
		lease: strconv.FormatInt(cfg.Lease.Milliseconds(), 10),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatterly_api_cache_requests_total",
			Help: "Read-through cache lookups by kind and result (hit, miss, bypass).",
		}, []string{"kind", "result"})}
	if reg != nil {
		reg.MustRegister(c.requests)
	}
	return c
}

// Loader reads an entry's value from Postgres.
type Loader func(ctx context.Context) ([]byte, error)

// Values are answered as strings: a hit is the very string rueidis keeps
// in process memory, shared by every reader and never copied (a hot list
// reads tens of kilobytes of entries per request). Slice it freely; never
// convert it to []byte on a hot path.

func (c *Cache) key(r Ref) string { return c.keys.Cache(r.Kind, r.ID) }

// Get returns r's value, loading and storing it on a miss. When Redis
// cannot be read, or another reader holds the lease, it loads without
// storing: the cache is never a reason for a read to fail.
func (c *Cache) Get(ctx context.Context, r Ref, load Loader) (string, error) {
	v, err := c.read(ctx, c.key(r)).ToString()
	return c.resolve(ctx, r, v, err, load)
}

// GetMany is Get for several entries, looked up in one round trip (none
// when all are in process memory). load(i) loads refs[i].
func (c *Cache) GetMany(ctx context.Context, refs []Ref, load func(ctx context.Context, i int) ([]byte, error)) ([]string, error) {
	cmds := make([]rueidis.CacheableTTL, 0, len(refs))
	var direct []int // refs this process wrote a moment ago: read from Redis
	for i, r := range refs {
		if k := c.key(r); c.fresh.Cacheable(k) {
			cmds = append(cmds, rueidis.CT(c.rdb.B().Get().Key(k).Cache(), c.cfg.LocalTTL))
		} else {
			direct = append(direct, i)
		}
	}
	results := make([]rueidis.RedisResult, len(refs))
	cached := c.rdb.DoMultiCache(ctx, cmds...)
	for i, j := 0, 0; i < len(refs); i++ {
		if j < len(direct) && direct[j] == i {
			results[i] = c.rdb.Do(ctx, c.rdb.B().Get().Key(c.key(refs[i])).Build())
			j++
			continue
		}
		results[i], cached = cached[0], cached[1:]
	}
	out := make([]string, len(refs))
	for i, res := range results {
		v, err := res.ToString()
		s, err := c.resolve(ctx, refs[i], v, err, func(ctx context.Context) ([]byte, error) { return load(ctx, i) })
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func (c *Cache) resolve(ctx context.Context, r Ref, v string, err error, load Loader) (string, error) {
	switch {
	case err == nil && !strings.HasPrefix(v, leasePrefix):
		c.requests.WithLabelValues(r.Kind, "hit").Inc()
		return v, nil
	case err == nil || !rueidis.IsRedisNil(err):
		// Someone else is filling it, or Redis is unreachable.
		c.requests.WithLabelValues(r.Kind, "bypass").Inc()
		b, err := load(ctx)
		return string(b), err
	}
	c.requests.WithLabelValues(r.Kind, "miss").Inc()
	key := c.key(r)
	tok := newLease()
	got := c.rdb.Do(ctx, c.rdb.B().Set().Key(key).Value(tok).Nx().PxMilliseconds(c.cfg.Lease.Milliseconds()).Build()).Error() == nil
	if got {
		c.fresh.Wrote(key)
	}
	b, err := load(ctx)
	if err != nil || !got {
		return string(b), err
	}
	v = string(b)
	// Failing to store only costs the next reader a load.
	_ = storeScript.Exec(ctx, c.rdb, []string{key}, []string{tok, v, c.ttl}).Error()
	c.fresh.Wrote(key)
	return v, nil
}

func newLease() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return leasePrefix + hex.EncodeToString(b[:])
}

// Invalidate deletes entries after the commit that changed what they hold.
// Keys of different slots are deleted one command each, in one pipeline.
func (c *Cache) Invalidate(ctx context.Context, refs ...Ref) error {
	if len(refs) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, len(refs))
	for i, r := range refs {
		cmds[i] = c.rdb.B().Del().Key(c.key(r)).Build()
		c.fresh.Wrote(c.key(r))
	}
	for i, res := range c.rdb.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("cache: invalidate %s %s: %w", refs[i].Kind, refs[i].ID, err)
		}
	}
	return nil
}
