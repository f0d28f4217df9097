// Package stats holds what the load generator measures: a mergeable
// latency histogram, and readings of a process's CPU time and resident
// memory from /proc.
package stats

import (
	"math/bits"
	"sort"
	"sync/atomic"
	"time"
)

// Hist is a log-linear histogram of durations in microseconds: exact below
// 128 µs, then 64 buckets per power of two (about 1.5 % relative error), up
// to about 35 minutes. Record is lock-free and safe for concurrent use;
// histograms of several processes merge by adding their counts.
type Hist struct {
	counts [nBuckets]atomic.Int64
	max    atomic.Int64
}

const (
	linear   = 128
	subBits  = 6
	nBuckets = linear + (31-7)*(1<<subBits)
)

func bucketOf(us int64) int {
	if us < linear {
		if us < 0 {
			return 0
		}
		return int(us)
	}
	exp := 63 - bits.LeadingZeros64(uint64(us)) // >= 7
	sub := int(us>>(exp-subBits)) & (1<<subBits - 1)
	b := linear + (exp-7)*(1<<subBits) + sub
	if b >= nBuckets {
		return nBuckets - 1
	}
	return b
}

// lowerOf is the smallest value of bucket b.
func lowerOf(b int) int64 {
	if b < linear {
		return int64(b)
	}
	b -= linear
	exp := b>>subBits + 7
	sub := int64(b & (1<<subBits - 1))
	return (1 << exp) | sub<<(exp-subBits)
}

// Record adds one observation.
func (h *Hist) Record(d time.Duration) {
	us := d.Microseconds()
	h.counts[bucketOf(us)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Snapshot is a histogram's counts, sparse, for merging and reporting.
type Snapshot struct {
	Buckets map[int]int64 `json:"buckets"`
	MaxUS   int64         `json:"max_us"`
}

// Snapshot copies the counts.
func (h *Hist) Snapshot() Snapshot {
	s := Snapshot{Buckets: map[int]int64{}, MaxUS: h.max.Load()}
	for i := range h.counts {
		if n := h.counts[i].Load(); n > 0 {
			s.Buckets[i] = n
		}
	}
	return s
}

// Merge adds o's counts to s.
func (s *Snapshot) Merge(o Snapshot) {
	if s.Buckets == nil {
		s.Buckets = map[int]int64{}
	}
	for b, n := range o.Buckets {
		s.Buckets[b] += n
	}
	s.MaxUS = max(s.MaxUS, o.MaxUS)
}

// Count is the number of observations.
func (s Snapshot) Count() int64 {
	var n int64
	for _, c := range s.Buckets {
		n += c
	}
	return n
}

// Quantile returns the q-th quantile (0 < q <= 1) as a duration: the lower
// bound of the bucket that holds it.
func (s Snapshot) Quantile(q float64) time.Duration {
	total := s.Count()
	if total == 0 {
		return 0
	}
	keys := make([]int, 0, len(s.Buckets))
	for b := range s.Buckets {
		keys = append(keys, b)
	}
	sort.Ints(keys)
	rank := int64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for _, b := range keys {
		seen += s.Buckets[b]
		if seen >= rank {
			return time.Duration(lowerOf(b)) * time.Microsecond
		}
	}
	return time.Duration(s.MaxUS) * time.Microsecond
}
