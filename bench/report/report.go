// Package report holds what a bench run measured and writes it out: the
// raw figures as JSON (bench/results/<timestamp>.json), the human report
// (bench/REPORT.md) with one row per target and its verdict, and one SVG
// latency plot per scenario.
//
// Honesty rules the writers enforce: a target row is PASS only when it was
// measured and met; a row whose scenario could not run says "not measured:
// <reason>" and is FAIL; targets are printed as DESIGN.md states them and
// never adjusted to the figure.
package report

import (
	"math"
	"time"

	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/load"
)

// Run is one bench run, everything the report and the JSON hold.
type Run struct {
	// ID is the run's UTC start time, 20060102T150405Z: the name of its
	// JSON file and the prefix of its plots.
	ID       string    `json:"id"`
	Mode     string    `json:"mode"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Machine  Machine   `json:"machine"`
	// LoadSamples are one-minute load averages read between scenarios: on
	// a shared machine they say how much else was running.
	LoadSamples []float64 `json:"load_samples,omitempty"`
	// Notes say how the run was made (seeding, raised limits, load on the
	// machine); they are printed under the title.
	Notes     []string    `json:"notes"`
	Targets   []Target    `json:"targets"`
	Figures   []Figure    `json:"figures"`
	Scenarios []*Scenario `json:"scenarios"`
	// Estimate is the arithmetic of what a million sockets take, line by
	// line, from the measured per-socket cost.
	Estimate []string `json:"estimate"`
}

// NewRun starts a run record now.
func NewRun(mode string) *Run {
	now := time.Now().UTC()
	return &Run{ID: now.Format("20060102T150405Z"), Mode: mode, Started: now}
}

// Target is one row of DESIGN.md's targets table, judged.
type Target struct {
	What     string `json:"what"`
	Original string `json:"original"`
	Ours     string `json:"ours"`
	// Measured is the figure as printed; empty when not measured.
	Measured string `json:"measured"`
	// NotMeasured, when set, is why the row has no figure.
	NotMeasured string `json:"not_measured,omitempty"`
	Pass        bool   `json:"pass"`
	// Scenario names the scenario that measured the row, Step its step
	// (for a ramp, the first rate missed).
	Scenario string `json:"scenario"`
	Step     string `json:"step,omitempty"`
	// Where says, for a FAIL, where the time or memory goes; Profile is
	// the pprof file (relative to bench/) that shows it.
	Where   string `json:"where,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Slowest and Waits are the measuring step's breakdown of its slowest
	// 1 % and its waits, each in one line (Breakdown.Line, Waits.Line).
	Slowest string `json:"slowest,omitempty"`
	Waits   string `json:"waits,omitempty"`
	// Next is, for a measured FAIL, the one next step that would move it,
	// chosen from what its step measured (scenario.Explain).
	Next string `json:"next,omitempty"`
}

// Verdict is PASS or FAIL.
func (t Target) Verdict() string {
	if t.Pass && t.NotMeasured == "" {
		return "PASS"
	}
	return "FAIL"
}

// Figure is a reported figure that has no target of its own.
type Figure struct {
	What  string `json:"what"`
	Value string `json:"value"`
	Note  string `json:"note,omitempty"`
}

// Scenario is one scenario's raw figures: its steps (a rate, a shape, a
// fault) and whether it ran at all.
type Scenario struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// NotMeasured, when set, is why the scenario did not run.
	NotMeasured string `json:"not_measured,omitempty"`
	// Error is how the scenario failed part-way, after the steps it
	// recorded.
	Error string  `json:"error,omitempty"`
	Steps []*Step `json:"steps"`
	// Plot is the SVG file name, set by the writer.
	Plot string `json:"plot,omitempty"`
}

// Step is one measured load level or shape of a scenario.
type Step struct {
	Label string `json:"label"`
	// Rate is the scheduled arrival rate (per second; 0 when not rate
	// driven) and Seconds the scheduled duration.
	Rate    float64 `json:"rate"`
	Seconds float64 `json:"seconds"`
	Due     int64   `json:"due"`
	Done    int64   `json:"done"`
	Failed  int64   `json:"failed"`
	Unsent  int64   `json:"unsent"`
	// Throughput is successful operations per second.
	Throughput float64 `json:"throughput"`
	FirstError string  `json:"first_error,omitempty"`
	// Latency is from due time (the judged figure); Service from actual
	// start. Distribution feeds the plot.
	Latency      hist.Summary  `json:"latency"`
	Service      *hist.Summary `json:"service,omitempty"`
	Distribution []hist.Point  `json:"distribution,omitempty"`
	// Extra holds the step's other figures by name (frames_per_s,
	// cpu_us_per_frame, lost, duplicates, rss_bytes_per_socket, …).
	Extra map[string]float64 `json:"extra,omitempty"`
	// Profile is the pprof file (relative to the bench folder) taken of
	// this step when it missed its target, and Where the profile's top
	// entries in one line.
	Profile string `json:"profile,omitempty"`
	Where   string `json:"where,omitempty"`
	// Slowest is the breakdown of the step's slowest 1 %, Waits what the
	// processes waited on during it (both when measured).
	Slowest *Breakdown `json:"slowest,omitempty"`
	Waits   *Waits     `json:"waits,omitempty"`
}

// FromLoad records a load driver result as a step.
func FromLoad(label string, r load.Result) *Step {
	svc := r.Service.Summarize()
	return &Step{
		Label: label, Rate: r.Plan.Rate, Seconds: r.Plan.Duration.Seconds(),
		Due: r.Due, Done: r.Done, Failed: r.Failed, Unsent: r.Unsent,
		Throughput: r.Throughput(), FirstError: r.FirstError,
		Latency: r.Latency.Summarize(), Service: &svc, Distribution: Thin(r.Latency.Distribution()),
	}
}

// Thin drops points of a percentile distribution a plot cannot show apart:
// it keeps a point when, since the last one kept, the percentile moved by
// a hundredth of a "nine" or the value by 2 %, and always keeps the last.
// A run's JSON stays small (a few hundred points per step) and its plots
// unchanged.
func Thin(ps []hist.Point) []hist.Point {
	if len(ps) <= 2 {
		return ps
	}
	nines := func(p float64) float64 {
		if p >= 100 {
			return 6
		}
		return math.Log10(100 / (100 - p))
	}
	out := []hist.Point{ps[0]}
	for i, p := range ps[1:] {
		last := out[len(out)-1]
		if i == len(ps)-2 || nines(p.Percentile)-nines(last.Percentile) >= 0.01 || float64(p.Value) >= 1.02*float64(last.Value) {
			out = append(out, p)
		}
	}
	return out
}

// FromHist records a latency histogram that was not produced by the load
// driver (deliveries counted at the sockets, in-process checks).
func FromHist(label string, h *hist.Histogram) *Step {
	return &Step{Label: label, Done: int64(h.Count()), Latency: h.Summarize(), Distribution: Thin(h.Distribution())}
}

// Set records an extra figure and returns s.
func (s *Step) Set(name string, v float64) *Step {
	if s.Extra == nil {
		s.Extra = map[string]float64{}
	}
	s.Extra[name] = v
	return s
}

// Scenario returns the scenario named name, adding it when new.
func (r *Run) Scenario(name, title string) *Scenario {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s
		}
	}
	s := &Scenario{Name: name, Title: title}
	r.Scenarios = append(r.Scenarios, s)
	return s
}

// Add appends a step and returns it.
func (s *Scenario) Add(st *Step) *Step {
	s.Steps = append(s.Steps, st)
	return st
}

// Step returns the step labelled label, or nil.
func (s *Scenario) Step(label string) *Step {
	for _, st := range s.Steps {
		if st.Label == label {
			return st
		}
	}
	return nil
}
