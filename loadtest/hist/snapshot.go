package hist

// Snapshot is a histogram in a form that crosses a process boundary (JSON)
// and merges back exactly: the non-empty buckets by index, and the exact
// count, sum, min and max.
type Snapshot struct {
	// Buckets holds [index, count] pairs.
	Buckets [][2]uint64 `json:"buckets"`
	Total   uint64      `json:"total"`
	Sum     float64     `json:"sum"`
	Min     int64       `json:"min"`
	Max     int64       `json:"max"`
}

// Snapshot returns h as a Snapshot.
func (h *Histogram) Snapshot() Snapshot {
	s := Snapshot{Total: h.total.Load(), Sum: float64(h.sum.Load()), Min: h.min.Load(), Max: h.max.Load()}
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return s
}

// MergeSnapshot adds s to h. Buckets outside h's range are ignored (a
// snapshot from a build with other bucket constants).
func (h *Histogram) MergeSnapshot(s Snapshot) {
	if s.Total == 0 {
		return
	}
	for _, b := range s.Buckets {
		if b[0] < nBuckets {
			h.counts[b[0]].Add(b[1])
		}
	}
	h.add(s.Total, int64(s.Sum), s.Min, s.Max)
}
