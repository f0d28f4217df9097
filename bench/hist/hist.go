// Package hist is the bench's latency histogram: HDR-style log-linear
// buckets over nanoseconds, so every recorded value is kept to within 1/128
// (under 0.8 %) of itself from 1 ns to days, in a fixed 43 KB of counts.
//
// Bucket layout. Values below 2·Sub (256 ns) get a bucket each. Above that,
// each power of two [2^m, 2^(m+1)) is cut into Sub equal buckets, so a
// bucket's width is at most 1/Sub of its lower bound. That is the layout of
// HdrHistogram with 2 significant digits, written out here because the bench
// may add no dependency.
//
// A Histogram is not safe for concurrent use: each load worker records into
// its own and the results are merged (Merge is exact, because every
// histogram has the same buckets).
package hist

import (
	"math"
	"math/bits"
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
	counts [nBuckets]uint64
	total  uint64
	sum    float64
	min    int64
	max    int64
}

// New returns an empty histogram.
func New() *Histogram { return &Histogram{min: math.MaxInt64} }

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
func (h *Histogram) RecordValue(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[index(v)]++
	h.total++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	if o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest value recorded, exactly (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min is the smallest value recorded, exactly (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Mean is the exact mean of the values recorded.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the value at quantile q (0 < q ≤ 1): the highest value
// of the bucket holding the ⌈q·count⌉-th smallest value, capped at Max. It
// therefore never understates a percentile; it may overstate it by under
// 1/Sub.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			if i == nBuckets-1 {
				return time.Duration(h.max) // the clamped bucket has no bound
			}
			_, hi := bounds(i)
			return time.Duration(min(hi, h.max))
		}
	}
	return time.Duration(h.max)
}

// Bucket is one non-empty bucket: values from Lo to Hi nanoseconds.
type Bucket struct {
	Lo, Hi int64
	Count  uint64
}

// Buckets lists the non-empty buckets in increasing order.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for i, c := range h.counts {
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
	h.counts[index(v)] += count
	h.total += count
	h.sum += float64(v) * float64(count)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}
