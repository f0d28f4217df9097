package stats

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuantilesWithinOnePointFivePercent(t *testing.T) {
	t.Parallel()
	var h Hist
	for us := 1; us <= 100_000; us++ {
		h.Record(time.Duration(us) * time.Microsecond)
	}
	s := h.Snapshot()
	require.Equal(t, int64(100_000), s.Count())
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := q * 100_000
		got := float64(s.Quantile(q).Microseconds())
		require.InEpsilon(t, want, got, 0.016, "q=%v", q)
	}
	require.Equal(t, int64(100_000), s.MaxUS)

	var o Hist
	o.Record(time.Second)
	merged := Snapshot{}
	merged.Merge(s)
	merged.Merge(o.Snapshot())
	require.Equal(t, int64(100_001), merged.Count())
	require.Equal(t, int64(1_000_000), merged.MaxUS)
	for b := 0; b < nBuckets; b++ {
		require.Equal(t, b, bucketOf(lowerOf(b)), "bucket %d", b)
	}
}
