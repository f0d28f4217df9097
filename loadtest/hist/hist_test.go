package hist

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBucketsCoverEveryValue checks that bucket bounds tile the value range
// with no gap or overlap and with width at most 1/Sub of the lower bound.
func TestBucketsCoverEveryValue(t *testing.T) {
	t.Parallel()
	next := int64(0)
	for i := 0; i < nBuckets; i++ {
		lo, hi := bounds(i)
		require.Equal(t, next, lo, "bucket %d", i)
		require.GreaterOrEqual(t, hi, lo)
		if lo >= 2*Sub {
			require.LessOrEqual(t, hi-lo+1, lo/Sub, "bucket %d too wide", i)
		}
		require.Equal(t, i, index(lo))
		require.Equal(t, i, index(hi))
		next = hi + 1
	}
}

// TestQuantilesAgainstSortedValues compares every quantile with the exact
// one from a sorted copy: never below it, above by less than 1/Sub.
func TestQuantilesAgainstSortedValues(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	h := New()
	vals := make([]int64, 100_000)
	for i := range vals {
		// Log-uniform from 100 ns to 1 s: the range latencies live in.
		vals[i] = int64(100 * pow10(r.Float64()*7))
		h.RecordValue(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := int64(h.Quantile(q))
		require.GreaterOrEqual(t, got, exact, "q=%v", q)
		require.LessOrEqual(t, float64(got-exact), float64(exact)/Sub+1, "q=%v: %d vs exact %d", q, got, exact)
	}
	require.Equal(t, vals[len(vals)-1], int64(h.Max()))
	require.Equal(t, vals[0], int64(h.Min()))
	require.Equal(t, uint64(len(vals)), h.Count())
}

func TestMergeEqualsRecordingEverything(t *testing.T) {
	t.Parallel()
	a, b, all := New(), New(), New()
	for i := int64(1); i <= 5000; i++ {
		v := i * i * 37
		all.RecordValue(v)
		if i%3 == 0 {
			a.RecordValue(v)
		} else {
			b.RecordValue(v)
		}
	}
	a.Merge(b)
	require.Equal(t, all.Summarize(), a.Summarize())
	require.Equal(t, all.Buckets(), a.Buckets())
}

func TestEmptyAndExtremes(t *testing.T) {
	t.Parallel()
	h := New()
	require.Zero(t, h.Quantile(0.99))
	require.Nil(t, h.Distribution())
	h.Record(-time.Second) // a clock step counts as zero
	h.Record(1000 * time.Hour)
	require.Equal(t, uint64(2), h.Count())
	require.Equal(t, time.Duration(0), h.Min())
	require.Equal(t, 1000*time.Hour, h.Max())
	require.Equal(t, 1000*time.Hour, h.Quantile(1))
}

func TestDistributionEndsAtMax(t *testing.T) {
	t.Parallel()
	h := New()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	d := h.Distribution()
	require.NotEmpty(t, d)
	require.InDelta(t, 100, d[len(d)-1].Percentile, 1e-9)
	require.Equal(t, int64(time.Millisecond), d[len(d)-1].Value)
	for i := 1; i < len(d); i++ {
		require.Greater(t, d[i].Percentile, d[i-1].Percentile)
		require.GreaterOrEqual(t, d[i].Value, d[i-1].Value)
	}
}

func pow10(x float64) float64 { return math.Pow(10, x) }

func BenchmarkRecord(b *testing.B) {
	b.ReportAllocs()
	h := New()
	for i := 0; i < b.N; i++ {
		h.RecordValue(int64(i&0xfffff) * 97)
	}
}

func TestSnapshotRoundTripIsExact(t *testing.T) {
	t.Parallel()
	h := New()
	for i := int64(1); i < 10_000; i += 7 {
		h.RecordValue(i * 1013)
	}
	b, err := json.Marshal(h.Snapshot())
	require.NoError(t, err)
	var s Snapshot
	require.NoError(t, json.Unmarshal(b, &s))
	back := New()
	back.MergeSnapshot(s)
	require.Equal(t, h.Summarize(), back.Summarize())
	require.Equal(t, h.Buckets(), back.Buckets())
	empty := New()
	empty.MergeSnapshot(New().Snapshot())
	require.Zero(t, empty.Count())
}

// Goroutines recording into one histogram at once (a socket pool's event
// loops) lose no value and keep exact count, sum, min and max.
func TestConcurrentRecording(t *testing.T) {
	t.Parallel()
	h, want := New(), New()
	var wg sync.WaitGroup
	for g := int64(0); g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(1); i <= 10_000; i++ {
				h.RecordValue(g*1_000_000 + i*37)
			}
		}()
		for i := int64(1); i <= 10_000; i++ {
			want.RecordValue(g*1_000_000 + i*37)
		}
	}
	wg.Wait()
	require.Equal(t, want.Snapshot(), h.Snapshot())
	require.Equal(t, want.Summarize(), h.Summarize())
}
