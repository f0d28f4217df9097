package hist

import "time"

// Summary is the figures a report prints of a histogram, in nanoseconds.
type Summary struct {
	Count uint64 `json:"count"`
	Min   int64  `json:"min_ns"`
	Mean  int64  `json:"mean_ns"`
	P50   int64  `json:"p50_ns"`
	P90   int64  `json:"p90_ns"`
	P99   int64  `json:"p99_ns"`
	P999  int64  `json:"p999_ns"`
	Max   int64  `json:"max_ns"`
}

// Summarize returns h's summary.
func (h *Histogram) Summarize() Summary {
	return Summary{
		Count: h.Count(), Min: int64(h.Min()), Mean: int64(h.Mean()),
		P50: int64(h.Quantile(0.50)), P90: int64(h.Quantile(0.90)),
		P99: int64(h.Quantile(0.99)), P999: int64(h.Quantile(0.999)),
		Max: int64(h.Max()),
	}
}

// Point is one point of a percentile distribution: the value at or below
// which Percentile percent of the values lie.
type Point struct {
	Percentile float64 `json:"p"`
	Value      int64   `json:"ns"`
}

// Distribution returns the percentile distribution of h, one point per
// non-empty bucket (its upper bound against the share of values up to it),
// which is what the report's latency plots draw.
func (h *Histogram) Distribution() []Point {
	total, hmax := h.total.Load(), h.max.Load()
	if total == 0 {
		return nil
	}
	var out []Point
	var seen uint64
	for _, b := range h.Buckets() {
		seen += b.Count
		out = append(out, Point{
			Percentile: 100 * float64(seen) / float64(total),
			Value:      min(b.Hi, hmax),
		})
	}
	return out
}

// Millis renders ns as milliseconds, for reports.
func Millis(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }
