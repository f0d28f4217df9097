// Package hist is the latency histogram of the load generator and the
// bench: HDR-style log-linear
// buckets over nanoseconds, so every recorded value is kept to within 1/128
// (under 0.8 %) of itself from 1 ns to days, in a fixed 43 KB of counts.
//
// Bucket layout. Values below 2·Sub (256 ns) get a bucket each. Above that,
// each power of two [2^m, 2^(m+1)) is cut into Sub equal buckets, so a
// bucket's width is at most 1/Sub of its lower bound. That is the layout of
// HdrHistogram with 2 significant digits, written out here because the bench
// may add no dependency.
//
// Recording is safe for concurrent use and lock-free (every field is an
// atomic), so many goroutines can record into one histogram; reading (Quantile, Snapshot, Merge's source) while others
// record sees each value whole but may see the fields of a value recorded
// meanwhile in part. Histograms merge exactly, within a process (Merge) and
// across processes (Snapshot, MergeSnapshot), because every histogram has
// the same buckets.
package hist

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the precision: Sub buckets per power of two.
const subBits = 7

// Sub is the number of buckets each power of two is cut into.
const Sub = 1 << subBits

// maxShift bounds the values kept: anything at or above 2^(maxShift+subBits+1)
// ns (about 78 hours) is clamped into the last bucket.
const maxShift = 40

// nBuckets is the length of the counts array.
const nBuckets = (maxShift + 2) * Sub

// Histogram counts values (nanoseconds) in log-linear buckets.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Int64 // ns; 292 years of latencies before it wraps
	min    atomic.Int64
	max    atomic.Int64
}

// New returns an empty histogram.
func New() *Histogram {
	h := &Histogram{}
	h.min.Store(math.MaxInt64)
	return h
}

// index is the bucket of v (v ≥ 0).
func index(v int64) int {
	u := uint64(v)
	m := bits.Len64(u)
	if m <= subBits+1 {
		return int(u)
	}
	shift := m - (subBits + 1)
	if shift > maxShift {
		return nBuckets - 1
	}
	return shift*Sub + int(u>>uint(shift))
}

// bounds returns the lowest and highest value bucket i holds.
func bounds(i int) (lo, hi int64) {
	if i < 2*Sub {
		return int64(i), int64(i)
	}
	shift := i/Sub - 1
	mant := int64(i - shift*Sub)
	lo = mant << uint(shift)
	return lo, lo + 1<<uint(shift) - 1
}

// Record adds one duration; negative durations count as zero (a clock step
// must not corrupt the buckets).
func (h *Histogram) Record(d time.Duration) { h.RecordValue(int64(d)) }

// RecordValue adds one value in nanoseconds.
func (h *Histogram) RecordValue(v int64) { h.Add(v, 1) }

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total.Load() == 0 {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.add(o.total.Load(), o.sum.Load(), o.min.Load(), o.max.Load())
}

// add adds the totals of n values to h.
func (h *Histogram) add(n uint64, sum, lo, hi int64) {
	h.total.Add(n)
	h.sum.Add(sum)
	for m := h.min.Load(); lo < m && !h.min.CompareAndSwap(m, lo); m = h.min.Load() {
	}
	for m := h.max.Load(); hi > m && !h.max.CompareAndSwap(m, hi); m = h.max.Load() {
	}
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest value recorded, exactly (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min is the smallest value recorded, exactly (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total.Load() == 0 {
		return 0
	}
	return time.Duration(h.min.Load())
}

// Mean is the exact mean of the values recorded.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(float64(h.sum.Load()) / float64(n))
}

// Quantile returns the value at quantile q (0 < q ≤ 1): the highest value
// of the bucket holding the ⌈q·count⌉-th smallest value, capped at Max. It
// therefore never understates a percentile; it may overstate it by under
// 1/Sub.
func (h *Histogram) Quantile(q float64) time.Duration {
	total, hmax := h.total.Load(), h.max.Load()
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			if i == nBuckets-1 {
				return time.Duration(hmax) // the clamped bucket has no bound
			}
			_, hi := bounds(i)
			return time.Duration(min(hi, hmax))
		}
	}
	return time.Duration(hmax)
}

// Bucket is one non-empty bucket: values from Lo to Hi nanoseconds.
type Bucket struct {
	Lo, Hi int64
	Count  uint64
}

// Buckets lists the non-empty buckets in increasing order.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for i := range h.counts {
		c := h.counts[i].Load()
		if c == 0 {
			continue
		}
		lo, hi := bounds(i)
		out = append(out, Bucket{Lo: lo, Hi: hi, Count: c})
	}
	return out
}

// Add records count values of v at once (used to rebuild a histogram from
// its buckets).
func (h *Histogram) Add(v int64, count uint64) {
	if count == 0 {
		return
	}
	if v < 0 {
		v = 0
	}
	h.counts[index(v)].Add(count)
	h.add(count, v*int64(count), v, v)
}
