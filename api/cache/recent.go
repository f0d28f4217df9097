package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// Recent remembers keys this process wrote a moment ago. Redis sends the
// invalidation of a client-side cached key to the connection that read it,
// which need not be the one that wrote it, so the writer itself may hear of
// its own write a little after the write's reply. Until then, a reader that
// must see its own writes reads such keys from Redis, not process memory.
type Recent struct {
	m      sync.Map // key -> time.Time until which memory may be stale
	writes atomic.Uint64
}

// recentFor is how long after a write a key bypasses process memory:
// invalidations arrive within milliseconds; this is generous.
const recentFor = 2 * time.Second

// Wrote marks key as written just now. Every 1,024th call sweeps out marks
// that have run out, so keys never read again do not pile up.
func (r *Recent) Wrote(key string) {
	now := time.Now()
	r.m.Store(key, now.Add(recentFor))
	if r.writes.Add(1)%1024 == 0 {
		r.m.Range(func(k, v any) bool {
			if now.After(v.(time.Time)) {
				r.m.CompareAndDelete(k, v)
			}
			return true
		})
	}
}

// Cacheable reports whether key may be answered from process memory.
func (r *Recent) Cacheable(key string) bool {
	v, ok := r.m.Load(key)
	if !ok {
		return true
	}
	if time.Now().Before(v.(time.Time)) {
		return false
	}
	r.m.CompareAndDelete(key, v)
	return true
}
