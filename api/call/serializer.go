package call

import (
	"time"

	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
)

// JSON is the call session resource, as the REST API returns it and as the
// call.* events carry it (it has no per-viewer fields, so both are the
// same). A timestamp is null until its status is reached.
type JSON struct {
	ID             id.ID      `json:"id"`
	ConversationID id.ID      `json:"conversation_id"`
	CallerID       id.ID      `json:"caller_id"`
	CalleeID       id.ID      `json:"callee_id"`
	Media          Media      `json:"media"`
	Status         Status     `json:"status"`
	CreatedAt      time.Time  `json:"created_at"`
	RingingAt      *time.Time `json:"ringing_at"`
	AcceptedAt     *time.Time `json:"accepted_at"`
	DeclinedAt     *time.Time `json:"declined_at"`
	MissedAt       *time.Time `json:"missed_at"`
	EndedAt        *time.Time `json:"ended_at"`
	EndedBy        *id.ID     `json:"ended_by"`
}

// Render is c as clients see it: millisecond UTC times, like every time
// the API and the events send.
func Render(c Call) JSON {
	return JSON{
		ID: c.ID, ConversationID: c.ConversationID, CallerID: c.CallerID, CalleeID: c.CalleeID,
		Media: c.Media, Status: c.Status, CreatedAt: ms(c.CreatedAt),
		RingingAt: msp(c.RingingAt), AcceptedAt: msp(c.AcceptedAt), DeclinedAt: msp(c.DeclinedAt),
		MissedAt: msp(c.MissedAt), EndedAt: msp(c.EndedAt), EndedBy: c.EndedBy,
	}
}

// listJSON is one page of a DM's call history, newest first.
type listJSON struct {
	Items []JSON `json:"items"`
	// NextCursor is the before= of the next (older) page; nil on the last.
	NextCursor *string `json:"next_cursor"`
}

// Directions of a call, as one participant sees it.
const (
	Outgoing = "outgoing"
	Incoming = "incoming"
)

// HistoryJSON is one entry of a person's call history (GET /calls without
// a conversation): the call resource and the viewer's own fields, which
// events never carry — the direction they took it in, the other
// participant, and how long it lasted: whole seconds from the answer to the
// end, null for a call that was never answered or is not over.
type HistoryJSON struct {
	JSON
	Direction       string    `json:"direction"`
	Peer            user.JSON `json:"peer"`
	DurationSeconds *int64    `json:"duration_seconds"`
}

// RenderFor is t as its participant viewer sees it in their history.
func RenderFor(t Taken, viewer id.ID) HistoryJSON {
	h := HistoryJSON{JSON: Render(t.Call), Direction: Incoming, Peer: user.Render(t.Peer)}
	if t.CallerID == viewer {
		h.Direction = Outgoing
	}
	if t.Status == Ended && t.AcceptedAt != nil && t.EndedAt != nil {
		d := int64(t.EndedAt.Sub(*t.AcceptedAt) / time.Second)
		h.DurationSeconds = &d
	}
	return h
}

// historyJSON is one page of a person's call history, newest first.
type historyJSON struct {
	Items []HistoryJSON `json:"items"`
	// NextCursor is the before= of the next (older) page; nil on the last.
	NextCursor *string `json:"next_cursor"`
}

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func msp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}
