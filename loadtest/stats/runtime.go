package stats

import (
	"bufio"
	"bytes"
	"math"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
)

// Runtime is what a Go process's runtime says it waited on, cumulative
// since the process started: GC cycles and stop-the-world pauses, GC CPU
// (assists included), and how long runnable goroutines waited for a
// thread (scheduler latency). Read in process (ReadRuntime: the bench's
// own load processes) or from a process's /metrics (ParseRuntime: the
// api, edge and worker export them through shared/metrics). Two readings
// subtract (Sub) into the waits of the time between them.
type Runtime struct {
	GCCycles float64 `json:"gc_cycles"`
	// GCPauseSeconds is the summed length of stop-the-world GC pauses.
	GCPauseSeconds float64 `json:"gc_pause_s"`
	// GCCPUSeconds is CPU spent on GC; AssistCPUSeconds the part of it
	// that application goroutines did (assists: they wait for it).
	GCCPUSeconds     float64 `json:"gc_cpu_s"`
	AssistCPUSeconds float64 `json:"gc_assist_cpu_s"`
	// Sched is the scheduler latency distribution, seconds; SchedSum its
	// total.
	Sched    Hist    `json:"sched"`
	SchedSum float64 `json:"sched_sum_s"`
}

// Hist is a histogram by bucket upper bounds (ascending, the last may be
// +Inf) with the count of each bucket (not cumulative).
type Hist struct {
	Upper  []float64 `json:"le"`
	Counts []float64 `json:"n"`
}

// Count is the histogram's number of samples.
func (h Hist) Count() float64 {
	var n float64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile is the upper bound of the bucket holding quantile q (for the
// +Inf bucket, the bound below it): the samples at q are at most that.
func (h Hist) Quantile(q float64) float64 {
	total := h.Count()
	if total == 0 {
		return 0
	}
	need := q * total
	var seen float64
	for i, c := range h.Counts {
		seen += c
		if c > 0 && seen >= need {
			return h.bound(i)
		}
	}
	return h.bound(len(h.Counts) - 1)
}

// CountFrom is how many samples are in buckets whose lower bound is at
// least lo.
func (h Hist) CountFrom(lo float64) float64 {
	var n float64
	for i, c := range h.Counts {
		if i > 0 && h.Upper[i-1] >= lo {
			n += c
		}
	}
	return n
}

// Max is the upper bound of the highest bucket with a sample.
func (h Hist) Max() float64 {
	for i := len(h.Counts) - 1; i >= 0; i-- {
		if h.Counts[i] > 0 {
			return h.bound(i)
		}
	}
	return 0
}

func (h Hist) bound(i int) float64 {
	if math.IsInf(h.Upper[i], 1) && i > 0 {
		return h.Upper[i-1]
	}
	return h.Upper[i]
}

// Sub is h minus an earlier reading of the same histogram; a reading with
// other buckets (a restarted process) leaves h as it is.
func (h Hist) Sub(o Hist) Hist {
	if len(o.Counts) != len(h.Counts) {
		return h
	}
	out := Hist{Upper: h.Upper, Counts: make([]float64, len(h.Counts))}
	for i := range h.Counts {
		out.Counts[i] = max(0, h.Counts[i]-o.Counts[i])
	}
	return out
}

// Sub is r minus an earlier reading of the same process.
func (r Runtime) Sub(o Runtime) Runtime {
	return Runtime{
		GCCycles: r.GCCycles - o.GCCycles, GCPauseSeconds: r.GCPauseSeconds - o.GCPauseSeconds,
		GCCPUSeconds: r.GCCPUSeconds - o.GCCPUSeconds, AssistCPUSeconds: r.AssistCPUSeconds - o.AssistCPUSeconds,
		Sched: r.Sched.Sub(o.Sched), SchedSum: r.SchedSum - o.SchedSum,
	}
}

// The runtime/metrics names ReadRuntime reads, and the Prometheus names
// the Go collector gives them (shared/metrics enables them).
const (
	rtSched  = "/sched/latencies:seconds"
	rtPauses = "/sched/pauses/total/gc:seconds"
	rtCycles = "/gc/cycles/total:gc-cycles"
	rtGCCPU  = "/cpu/classes/gc/total:cpu-seconds"
	rtAssist = "/cpu/classes/gc/mark/assist:cpu-seconds"
)

// ReadRuntime reads this process's runtime.
func ReadRuntime() Runtime {
	s := []metrics.Sample{{Name: rtSched}, {Name: rtPauses}, {Name: rtCycles}, {Name: rtGCCPU}, {Name: rtAssist}}
	metrics.Read(s)
	var r Runtime
	if s[0].Value.Kind() == metrics.KindFloat64Histogram {
		r.Sched, r.SchedSum = fromRuntime(s[0].Value.Float64Histogram())
	}
	if s[1].Value.Kind() == metrics.KindFloat64Histogram {
		_, r.GCPauseSeconds = fromRuntime(s[1].Value.Float64Histogram())
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		r.GCCycles = float64(s[2].Value.Uint64())
	}
	if s[3].Value.Kind() == metrics.KindFloat64 {
		r.GCCPUSeconds = s[3].Value.Float64()
	}
	if s[4].Value.Kind() == metrics.KindFloat64 {
		r.AssistCPUSeconds = s[4].Value.Float64()
	}
	return r
}

// fromRuntime converts a runtime histogram (Buckets are len(Counts)+1
// boundaries) and estimates its sum from each bucket's middle (the
// runtime's time buckets are a few percent wide).
func fromRuntime(h *metrics.Float64Histogram) (Hist, float64) {
	out := Hist{Upper: make([]float64, len(h.Counts)), Counts: make([]float64, len(h.Counts))}
	var sum float64
	for i, c := range h.Counts {
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		// The last bucket ends at +Inf, which JSON cannot carry: its lower
		// bound stands for it (what Quantile and Max would say of it).
		out.Upper[i], out.Counts[i] = hi, float64(c)
		if math.IsInf(hi, 1) {
			out.Upper[i] = lo
		}
		switch {
		case c == 0:
		case math.IsInf(hi, 1):
			sum += float64(c) * lo
		case math.IsInf(lo, -1):
			sum += float64(c) * hi
		default:
			sum += float64(c) * (lo + hi) / 2
		}
	}
	return out, sum
}

// ParseRuntime reads a Prometheus text exposition of a process with the Go
// collector's runtime metrics (go_sched_latencies_seconds,
// go_gc_cycles_total_gc_cycles_total, go_cpu_classes_gc_*) and
// go_gc_duration_seconds. It says whether the scheduler latencies were
// there (a process built before they were exported has the rest).
func ParseRuntime(text []byte) (Runtime, bool) {
	var r Runtime
	var ok bool
	r.Sched, r.SchedSum, ok = ParseHist(text, "go_sched_latencies_seconds")
	eachSample(text, func(name, _ string, v float64) {
		switch name {
		case "go_gc_duration_seconds_sum":
			r.GCPauseSeconds = v
		case "go_gc_cycles_total_gc_cycles_total":
			r.GCCycles = v
		case "go_cpu_classes_gc_total_cpu_seconds_total":
			r.GCCPUSeconds = v
		case "go_cpu_classes_gc_mark_assist_cpu_seconds_total":
			r.AssistCPUSeconds = v
		}
	})
	return r, ok
}

// ParseHist reads the Prometheus histogram name from a text exposition,
// its series (label sets) added up, and its sum; ok is false when it is
// not there.
func ParseHist(text []byte, name string) (h Hist, sum float64, ok bool) {
	cum := map[float64]float64{}
	eachSample(text, func(n, labels string, v float64) {
		switch n {
		case name + "_bucket":
			if le, err := strconv.ParseFloat(label(labels, "le"), 64); err == nil {
				cum[le] += v
			}
		case name + "_sum":
			sum += v
		}
	})
	les := make([]float64, 0, len(cum))
	for le := range cum {
		les = append(les, le)
	}
	sort.Float64s(les)
	var prev float64
	for _, le := range les {
		h.Upper = append(h.Upper, le)
		h.Counts = append(h.Counts, max(0, cum[le]-prev))
		prev = cum[le]
	}
	return h, sum, len(les) > 0
}

// ParseSum is the sum of every series of the sample name (a counter's
// label sets) in a text exposition; ok is false when there is none.
func ParseSum(text []byte, name string) (sum float64, ok bool) {
	eachSample(text, func(n, _ string, v float64) {
		if n == name {
			sum, ok = sum+v, true
		}
	})
	return sum, ok
}

// eachSample calls f with each sample line of a text exposition.
func eachSample(text []byte, f func(name, labels string, v float64)) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if name, labels, v, ok := sample(line); ok {
			f(name, labels, v)
		}
	}
}

// sample splits `name{labels} value` (labels may be absent).
func sample(line string) (name, labels string, v float64, ok bool) {
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		return "", "", 0, false
	}
	head := line[:sp]
	if i := strings.IndexByte(head, '{'); i >= 0 {
		return head[:i], head[i:], v, true
	}
	return head, "", v, true
}

// label returns the value of key in `{k="v",…}`.
func label(labels, key string) string {
	i := strings.Index(labels, key+`="`)
	if i < 0 {
		return ""
	}
	rest := labels[i+len(key)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}
