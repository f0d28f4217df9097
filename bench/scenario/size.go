package scenario

import "github.com/chatterly/chatterly/bench/seed"

// Size is how hard a run pushes: Full for `make bench`, Smoke for the
// harness check in `make test`, which runs every scenario with tiny loads.
type Size struct {
	Name string
	// Users and Groups are seeded. The judged delivery shape is "g19"
	// (conversations of 19); "all" is every user in one conversation.
	Users  int
	Groups []seed.Group

	// AuthRate checks/s for AuthSeconds, for tokens seen before;
	// AuthNewRate for fresh ones.
	AuthRate, AuthNewRate, AuthSeconds float64

	// ReadRate and WriteRate are the fixed rates judged (5,000 and 1,000
	// per second); ReadSteps and WriteSteps the rates tried, in order, for
	// the highest rate held. FixedSeconds and StepSeconds are how long
	// each runs.
	ReadRate, WriteRate       float64
	ReadSteps, WriteSteps     []float64
	FixedSeconds, StepSeconds float64
	// HTTPConns bounds the REST client's connections.
	HTTPConns int
	// Profile takes a CPU profile of a step that misses its target.
	Profile bool
}

// Full is `make bench`: DESIGN.md's shapes and rates.
var Full = Size{
	Name:  "full",
	Users: 19_000,
	Groups: []seed.Group{
		{Shape: "g19", Size: 19, Count: 1000},
		{Shape: "all", Size: 19_000, Count: 1},
		{Shape: "g2", Size: 2, Count: 100},
		{Shape: "g20", Size: 20, Count: 50, First: 200},
		{Shape: "g200", Size: 200, Count: 5, First: 1200},
	},
	AuthRate: 20_000, AuthNewRate: 2_000, AuthSeconds: 5,
	ReadRate: 5_000, WriteRate: 1_000,
	ReadSteps:    []float64{10_000, 15_000, 20_000, 25_000, 30_000, 40_000},
	WriteSteps:   []float64{2_000, 3_000, 4_000, 5_000, 6_000},
	FixedSeconds: 10, StepSeconds: 5,
	HTTPConns: 256,
	Profile:   true,
}

// Smoke runs every scenario for a moment with a handful of users: it
// proves the harness works end to end, not the targets.
var Smoke = Size{
	Name:  "smoke",
	Users: 60,
	Groups: []seed.Group{
		{Shape: "g19", Size: 19, Count: 3},
		{Shape: "all", Size: 60, Count: 1},
		{Shape: "g2", Size: 2, Count: 2},
		{Shape: "g20", Size: 20, Count: 1},
	},
	AuthRate: 2_000, AuthNewRate: 200, AuthSeconds: 0.2,
	ReadRate: 200, WriteRate: 100,
	ReadSteps: []float64{400}, WriteSteps: []float64{200},
	FixedSeconds: 0.5, StepSeconds: 0.3,
	HTTPConns: 16,
}
