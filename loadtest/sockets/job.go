// Package sockets is the many-socket client of the bench and of
// chatterly-load: a process that holds
// thousands of Action Cable connections to the edge, subscribes them,
// counts and times every bench event they receive, and recovers as a real
// client does (reconnect, re-subscribe, GET …/events?after_seq=N on a gap
// or after a reconnect), so that message loss is counted after recovery.
//
// It speaks the wire through loadtest/cable (handshake, frames, commands)
// and runs as a child process of its load process (`chatterly-bench
// sockets`, `chatterly-load sockets`), one per few thousand sockets, so that no process exceeds the open-files
// limit and a fleet of edges can be loaded. The parent drives its children
// with JSON lines on stdin and reads JSON lines on stdout (child.go,
// client.go).
//
// Accounting. A socket appends one record per bench event it applies
// (seq events: after dropping seq it has already applied, as PROTOCOL.md
// tells clients; events without seq: kept, duplicates dropped at report).
// A report for a phase compares the records with what the parent says was
// sent to each conversation: every subscriber must hold every event
// exactly once; what is missing is lost.
package sockets

import (
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/stats"
)

// Job is what one child process connects.
type Job struct {
	// Edges are the edges' host:port; API is the api's base URL, for
	// replay after a gap or a reconnect.
	Edges []string `json:"edges"`
	API   string   `json:"api"`
	// Recover turns on the client's recovery: reconnect with backoff,
	// re-subscribe, and fetch missed events from the api.
	Recover bool `json:"recover"`
	// ConnectRate is handshakes per second (open model, latency from the
	// intended time); ConnectWorkers bounds those in flight.
	ConnectRate    float64 `json:"connect_rate"`
	ConnectWorkers int     `json:"connect_workers"`
	Sockets        []Spec  `json:"sockets"`
}

// Spec is one socket: whose token, which edge, which conversations.
type Spec struct {
	Token string `json:"token"`
	Edge  int    `json:"edge"`
	Subs  []Sub  `json:"subs"`
}

// Sub is a ConversationChannel subscription. From is the conversation's
// newest seq when the socket was planned: the client has applied it.
type Sub struct {
	Conv int64 `json:"conv"`
	From int64 `json:"from"`
}

// Expect lists the events of a phase sent to one conversation.
type Expect struct {
	Conv int64    `json:"conv"`
	Ks   []uint32 `json:"ks"`
}

// Request is a command from the parent.
type Request struct {
	Cmd   string   `json:"cmd"` // start, status, count, report, runtime, close
	Job   *Job     `json:"job,omitempty"`
	Phase uint16   `json:"phase,omitempty"`
	Sent  []Expect `json:"sent,omitempty"`
	// Tail asks a report for its slowest deliveries, up to that many.
	Tail int `json:"tail,omitempty"`
}

// Response answers one Request.
type Response struct {
	Err    string  `json:"err,omitempty"`
	Start  *Start  `json:"start,omitempty"`
	Status *Status `json:"status,omitempty"`
	Count  int64   `json:"count,omitempty"`
	Report *Report `json:"report,omitempty"`
	// Runtime is the child's Go runtime (GC, scheduler latency) now.
	Runtime *stats.Runtime `json:"runtime,omitempty"`
}

// Start is how connecting went.
type Start struct {
	Wanted    int     `json:"wanted"`
	Connected int     `json:"connected"`
	Failed    int     `json:"failed"`
	FirstErr  string  `json:"first_err,omitempty"`
	Rate      float64 `json:"rate"` // completed handshakes (with subscriptions) per second
	// Handshake is from each socket's intended connect time to its last
	// subscription's confirmation.
	Handshake hist.Snapshot `json:"handshake"`
}

// Status is the state of the child's sockets now.
type Status struct {
	Open       int   `json:"open"`
	Subscribed int   `json:"subscribed"`
	Reconnects int64 `json:"reconnects"`
	Rejected   int64 `json:"rejected"`
	Fetches    int64 `json:"fetches"`
	FetchErrs  int64 `json:"fetch_errs"`
	Resyncs    int64 `json:"resyncs"`
	// Disconnects counts server disconnect messages by reason.
	Disconnects map[string]int64 `json:"disconnects,omitempty"`
}

// Report is the accounting of one phase.
type Report struct {
	// Expected deliveries (events × their subscribers here), Delivered
	// (distinct, on time or recovered), Lost, Duplicates dropped, and
	// Unexpected (bench events of the phase not in the sent list).
	Expected   int64 `json:"expected"`
	Delivered  int64 `json:"delivered"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	Unexpected int64 `json:"unexpected"`
	// Latency is from each event's intended send time to its arrival at
	// each subscriber.
	Latency hist.Snapshot `json:"latency"`
	// Last is, per event k, the latency of its last subscriber here (the
	// parent takes the max over children).
	Last map[uint32]int64 `json:"last"`
	// Tail are the slowest deliveries, as many as the request's Tail
	// asked for, in no order.
	Tail []Delivery `json:"tail,omitempty"`
}

// Delivery is one event k of a phase applied at a subscriber of Conv,
// Lat after its intended send time.
type Delivery struct {
	K    uint32 `json:"k"`
	Conv int64  `json:"conv"`
	Lat  int64  `json:"lat"`
}
