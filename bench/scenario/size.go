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

	// PerChild bounds the sockets of one socket-holding child process
	// (under the open-files limit); ConnectRate is handshakes per second.
	PerChild    int
	ConnectRate float64
	// SettleQuiet is how long deliveries may pause before what is missing
	// counts as lost; SettleMax bounds the wait for a phase's deliveries.
	SettleQuiet, SettleMax float64

	// DeliveryRate events/s for DeliverySecs over the 19-member
	// conversations (judged, from the api and from stream entry);
	// AllRate for AllSecs to the conversation of every user (judged on
	// its last socket); Shapes are the other phases, reported.
	DeliveryRate, DeliverySecs float64
	AllRate, AllSecs           float64
	Shapes                     []ShapePhase
	// FanoutRate events/s to every user's conversation for FanoutSecs.
	FanoutRate, FanoutSecs float64

	// DensitySockets are opened on one fresh edge process, offered at
	// DensityConnectRate handshakes/s (above the 5,000/s target, so the
	// rate judged is what the edge completes, not what was offered), then
	// left idle for DensityIdle seconds before its memory is read.
	DensitySockets     int
	DensityConnectRate float64
	DensityIdle        float64
	// FleetSockets are spread over every edge; FleetSecs of the judged
	// g19 load run across them.
	FleetSockets int
	FleetSecs    float64
	// FaultSockets recovering clients receive FaultRate messages/s for
	// FaultSecs per fault, the fault injected FaultAt seconds in;
	// FaultQuiet replaces SettleQuiet (the relay republishes after its
	// grace period).
	FaultSockets                              int
	FaultRate, FaultSecs, FaultAt, FaultQuiet float64

	// Search is the message-search world (seeded once into a cached
	// database); SearchRate searches/s for SearchSecs are measured.
	Search                 seed.MessagePlan
	SearchRate, SearchSecs float64
}

// ShapePhase is a reported delivery phase: Rate events/s for Secs into the
// conversations of Shape, through the api or straight into the streams.
type ShapePhase struct {
	Shape  string
	Rate   float64
	Secs   float64
	ViaAPI bool
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

	PerChild: 10_000, ConnectRate: 4_000,
	SettleQuiet: 5, SettleMax: 90,
	DeliveryRate: 1_000, DeliverySecs: 20,
	AllRate: 1, AllSecs: 30,
	Shapes: []ShapePhase{
		{Shape: "g19", Rate: 2_000, Secs: 10},
		{Shape: "g19", Rate: 5_000, Secs: 10},
		{Shape: "g2", Rate: 1_000, Secs: 10},
		{Shape: "g20", Rate: 1_000, Secs: 10},
		{Shape: "g200", Rate: 100, Secs: 10},
		{Shape: "all", Rate: 1, Secs: 10, ViaAPI: true},
	},
	FanoutRate: 6, FanoutSecs: 20,
	DensitySockets: 19_900, DensityConnectRate: 10_000, DensityIdle: 10,
	FleetSockets: 36_000, FleetSecs: 10,
	FaultSockets: 2_000, FaultRate: 200, FaultSecs: 20, FaultAt: 5, FaultQuiet: 15,
	Search: seed.MessagePlan{Messages: 10_000_000, Conversations: 10_000, Users: 2_000, Authors: 8,
		Searchers: 20, PerSearcher: 100, Months: 12, Vocabulary: 30_000},
	SearchRate: 10, SearchSecs: 30,
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

	PerChild: 40, ConnectRate: 500,
	SettleQuiet: 1, SettleMax: 10,
	DeliveryRate: 50, DeliverySecs: 0.5,
	AllRate: 5, AllSecs: 0.6,
	Shapes:     []ShapePhase{{Shape: "g2", Rate: 20, Secs: 0.3}},
	FanoutRate: 10, FanoutSecs: 0.5,
	DensitySockets: 80, DensityConnectRate: 500, DensityIdle: 0.5,
	FleetSockets: 100, FleetSecs: 0.5,
	FaultSockets: 40, FaultRate: 20, FaultSecs: 2, FaultAt: 0.5, FaultQuiet: 10,
	Search: seed.MessagePlan{Messages: 12_000, Conversations: 300, Users: 60, Authors: 4,
		Searchers: 2, PerSearcher: 100, Months: 12, Vocabulary: 30_000},
	SearchRate: 20, SearchSecs: 0.5,
}
