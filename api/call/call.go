// Package call is the lifecycle of 1:1 voice and video calls: the REST
// routes that create a call session and move it through its states, the
// state machine those moves obey, the events each move publishes, the
// Redis participant set the edge checks before relaying a signal, the
// missed-call job, and the ICE servers clients connect their media with.
//
// The state machine lives in the database. Every move is one conditional
// UPDATE that succeeds only from the states the move is allowed from
// (transitions below), so when accept, decline, end and the missed-call job
// race for one call, Postgres lets exactly one of them take it out of
// calling or ringing and the others find a status they cannot leave from:
// 409 invalid_transition for a request, nothing to do for the job. The move
// and its event (in the DM's log, with the DM's seq) commit in one
// transaction; after commit the participant set and the two participants'
// user topics follow (effects.go), and the relay repeats them if the process
// dies in between (RelayHook).
//
// Every call belongs to a DM: a call to a user finds or creates the DM of
// the two.
package call

import (
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
)

// Status is a call's state.
type Status string

// The states. calling, ringing and active are live: their participants are
// busy and may signal each other. ended, declined and missed are final.
const (
	Calling  Status = "calling"
	Ringing  Status = "ringing"
	Active   Status = "active"
	Ended    Status = "ended"
	Declined Status = "declined"
	Missed   Status = "missed"
)

// Live reports whether s is calling, ringing or active.
func (s Status) Live() bool { return s == Calling || s == Ringing || s == Active }

// liveStatuses are the live states, for SQL.
var liveStatuses = []string{string(Calling), string(Ringing), string(Active)}

// Media is what a call carries.
type Media string

// The media a call may carry.
const (
	Audio Media = "audio"
	Video Media = "video"
)

// transition is one move of the state machine.
type transition struct {
	to Status
	// from are the only states the move may start from.
	from []Status
	// eventType is the event the move publishes.
	eventType string
}

// The moves. Nothing leaves ended, declined or missed; active only ends.
// Created calls start in calling, with call.incoming.
var (
	moveRing    = transition{to: Ringing, from: []Status{Calling}, eventType: event.CallRinging}
	moveAccept  = transition{to: Active, from: []Status{Calling, Ringing}, eventType: event.CallAccepted}
	moveDecline = transition{to: Declined, from: []Status{Calling, Ringing}, eventType: event.CallDeclined}
	moveEnd     = transition{to: Ended, from: []Status{Calling, Ringing, Active}, eventType: event.CallEnded}
	moveMiss    = transition{to: Missed, from: []Status{Calling, Ringing}, eventType: event.CallMissed}
)

// eventOf is the event type that announces a call entering s.
func eventOf(s Status) string {
	switch s {
	case Calling:
		return event.CallIncoming
	case Ringing:
		return event.CallRinging
	case Active:
		return event.CallAccepted
	case Declined:
		return event.CallDeclined
	case Missed:
		return event.CallMissed
	default:
		return event.CallEnded
	}
}

// Call is a row of call_sessions. Each status change sets its own
// timestamp; EndedBy is the participant who ended the call.
type Call struct {
	ID             id.ID
	ConversationID id.ID
	CallerID       id.ID
	CalleeID       id.ID
	Media          Media
	Status         Status
	CreatedAt      time.Time
	RingingAt      *time.Time
	AcceptedAt     *time.Time
	DeclinedAt     *time.Time
	MissedAt       *time.Time
	EndedAt        *time.Time
	EndedBy        *id.ID
}

// Participant reports whether u is the caller or the callee.
func (c Call) Participant(u id.ID) bool { return u == c.CallerID || u == c.CalleeID }

// Peer is the participant who is not u.
func (c Call) Peer(u id.ID) id.ID {
	if u == c.CallerID {
		return c.CalleeID
	}
	return c.CallerID
}
