package metrics

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/shared/outage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
)

// RedisStats counts what a process's Redis clients do; rueidis keeps no
// statistics of its own. The series are registered under the process's
// prefix (the caller wraps reg: chatterly_api_redis_commands_total, …) and
// labelled by client: "redis" (REDIS_URL) or "streams" (REDIS_STREAMS_URL,
// only when it is a client of its own).
type RedisStats struct {
	commands, failures, cacheHits *prometheus.CounterVec
}

// NewRedisStats registers the Redis client series on reg.
func NewRedisStats(reg prometheus.Registerer) *RedisStats {
	s := &RedisStats{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_commands_total",
			Help: "Redis commands sent (a pipelined batch counts each of its commands), by client.",
		}, []string{"client"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_failures_total",
			Help: "Redis commands that got no answer (connection refused or broken, timeout), by client; error replies and nil replies are answers.",
		}, []string{"client"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_cache_hits_total",
			Help: "Cacheable commands answered from the client-side cache without a round trip, by client.",
		}, []string{"client"}),
	}
	reg.MustRegister(s.commands, s.failures, s.cacheHits)
	return s
}

// Instrument returns a process's two clients counting into s: rdb as
// client "redis", and streams as "streams" unless it is rdb itself, which
// is then returned for both. Every series of those labels exists from here
// on, at 0.
func (s *RedisStats) Instrument(rdb, streams rueidis.Client) (rueidis.Client, rueidis.Client) {
	r := s.counted(rdb, "redis")
	if streams == rdb {
		return r, r
	}
	return r, s.counted(streams, "streams")
}

func (s *RedisStats) counted(c rueidis.Client, name string) rueidis.Client {
	return &countedRedis{Client: c, commands: s.commands.WithLabelValues(name),
		failures: s.failures.WithLabelValues(name), hits: s.cacheHits.WithLabelValues(name)}
}

// countedRedis counts the commands of Do, DoMulti, DoCache and
// DoMultiCache; Dedicated clients and Receive pass through uncounted.
type countedRedis struct {
	rueidis.Client
	commands, failures, hits prometheus.Counter
}

func (r *countedRedis) see(res rueidis.RedisResult) {
	if outage.RedisFailure(res.Error()) {
		r.failures.Inc()
	}
}

func (r *countedRedis) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	r.commands.Inc()
	res := r.Client.Do(ctx, cmd)
	r.see(res)
	return res
}

func (r *countedRedis) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	r.commands.Add(float64(len(multi)))
	rs := r.Client.DoMulti(ctx, multi...)
	for _, res := range rs {
		r.see(res)
	}
	return rs
}

func (r *countedRedis) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	r.commands.Inc()
	res := r.Client.DoCache(ctx, cmd, ttl)
	if res.IsCacheHit() {
		r.hits.Inc()
	}
	r.see(res)
	return res
}

func (r *countedRedis) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	r.commands.Add(float64(len(multi)))
	rs := r.Client.DoMultiCache(ctx, multi...)
	for _, res := range rs {
		if res.IsCacheHit() {
			r.hits.Inc()
		}
		r.see(res)
	}
	return rs
}
