package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Breakdown is where the time of a latency row's slowest 1 % went: each
// sample above the p99 split into the stages of its path, timed where they
// happen, and per stage the median and max over those samples. Stages
// whose time could not be taken per sample (the edge's, from its own
// histograms over the whole phase) are in Phase.
type Breakdown struct {
	// Samples is how many samples the slowest 1 % holds, of Of; From is
	// the fastest of them (ms).
	Samples int     `json:"samples"`
	Of      int     `json:"of"`
	From    float64 `json:"from_ms"`
	Stages  []Stage `json:"stages"`
	// Phase are figures over every event of the phase, not per sample.
	Phase []string `json:"phase,omitempty"`
	// Note says how the stages were timed, or why some were not.
	Note string `json:"note,omitempty"`
}

// Stage is one stage of the slowest samples, in milliseconds; N is how
// many of them had it timed. Aside marks a figure that is not part of the
// chain of stages (it overlaps them).
type Stage struct {
	Name   string  `json:"name"`
	N      int     `json:"n"`
	Median float64 `json:"median_ms"`
	Max    float64 `json:"max_ms"`
	Aside  bool    `json:"aside,omitempty"`
}

// Sample is one measured latency (ms) and its stages (ms, in the order of
// the stage names; NaN where a stage was not timed for it).
type Sample struct {
	Total  float64
	Stages []float64
}

// Slowest takes the slowest 1 % of of samples (ceil(of/100), at least
// one) out of tail, which must hold at least those (the slowest ones
// measured, in any order), and summarizes each stage over them. names
// name the stages; a name starting with "(" is an aside. It returns nil
// when there is nothing to summarize.
func Slowest(of int, tail []Sample, names []string) *Breakdown {
	if of <= 0 || len(tail) == 0 {
		return nil
	}
	n := min(len(tail), max(1, (of+99)/100))
	s := append([]Sample(nil), tail...)
	sort.Slice(s, func(i, j int) bool { return s[i].Total > s[j].Total })
	s = s[:n]
	b := &Breakdown{Samples: n, Of: of, From: s[n-1].Total}
	for i, name := range names {
		var vs []float64
		for _, x := range s {
			if i < len(x.Stages) && !math.IsNaN(x.Stages[i]) {
				vs = append(vs, x.Stages[i])
			}
		}
		st := Stage{Name: strings.Trim(name, "()"), N: len(vs), Aside: strings.HasPrefix(name, "(")}
		if len(vs) > 0 {
			sort.Float64s(vs)
			st.Median, st.Max = median(vs), vs[len(vs)-1]
		}
		b.Stages = append(b.Stages, st)
	}
	return b
}

// median of sorted vs.
func median(vs []float64) float64 {
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return (vs[m-1] + vs[m]) / 2
}

// Line is the breakdown in one line, as REPORT.md prints it beside the row.
func (b *Breakdown) Line() string {
	if b == nil {
		return ""
	}
	var chain, aside []string
	for _, st := range b.Stages {
		s := fmt.Sprintf("%s %s / %s", st.Name, Ms(st.Median), Ms(st.Max))
		switch {
		case st.N == 0:
			s = st.Name + " not timed"
		case st.N < b.Samples:
			s += fmt.Sprintf(" (%d timed)", st.N)
		}
		if st.Aside {
			aside = append(aside, s)
		} else {
			chain = append(chain, s)
		}
	}
	line := fmt.Sprintf("slowest 1 %% (%d of %d, from %s ms), median / max ms per stage: %s", b.Samples, b.Of,
		Ms(b.From), strings.Join(chain, " → "))
	if len(aside) > 0 {
		line += "; beside it: " + strings.Join(aside, "; ")
	}
	if len(b.Phase) > 0 {
		line += "; over the whole phase: " + strings.Join(b.Phase, "; ")
	}
	if b.Note != "" {
		line += " (" + b.Note + ")"
	}
	return line
}

// Ms prints milliseconds with the precision they deserve (the report's
// lines and the next steps written from them quote alike).
func Ms(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
