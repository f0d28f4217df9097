// Package event is the envelope every real-time event travels in, and its
// codec for Redis stream entries.
//
// An envelope is produced by the api (or the edge, for typing and signals),
// appended to a shard stream under its topic, and delivered by the edge to
// the sockets subscribed to that topic. Events of a conversation's log carry
// the conversation's gap-free seq; ephemeral ones carry none (Seq == 0).
package event

import (
	"encoding/json"
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// Event types, as PROTOCOL.md names them.
const (
	MessageCreated      = "message.created"
	MessageUpdated      = "message.updated"
	MessageDeleted      = "message.deleted"
	ReactionAdded       = "reaction.added"
	ReactionRemoved     = "reaction.removed"
	MemberJoined        = "member.joined"
	MemberLeft          = "member.left"
	MemberUpdated       = "member.updated"
	ConversationUpdated = "conversation.updated"
	// ConversationArchived and ConversationUnarchived carry the
	// conversation (archived_at set or null).
	ConversationArchived   = "conversation.archived"
	ConversationUnarchived = "conversation.unarchived"
	// NotificationCreated goes to a user's own topic only (api/mention).
	NotificationCreated = "notification.created"
	// UserUpdated carries a user's public resource after a profile
	// change, on the user topics of those who see them (api/profile).
	UserUpdated    = "user.updated"
	PinAdded       = "pin.added"
	PinRemoved     = "pin.removed"
	ReadUpdated    = "read.updated"
	Typing         = "typing"
	Presence       = "presence"
	CallIncoming   = "call.incoming"
	CallRinging    = "call.ringing"
	CallAccepted   = "call.accepted"
	CallDeclined   = "call.declined"
	CallEnded      = "call.ended"
	CallMissed     = "call.missed"
	CallSignal     = "call.signal"
	SessionRevoked = "session.revoked"
)

// Envelope is one event. Data is the resource JSON as the REST API renders
// it, minus per-viewer fields.
type Envelope struct {
	Type           string          `json:"type"`
	ConversationID id.ID           `json:"conversation_id,omitempty"`
	Seq            int64           `json:"seq,omitempty"`
	At             time.Time       `json:"at"`
	Data           json.RawMessage `json:"data"`
}

// SessionRevokedData is the payload of session.revoked.
type SessionRevokedData struct {
	UserID id.ID `json:"user_id"`
	SID    id.ID `json:"sid"`
}

// Encode renders env as JSON with millisecond time, as clients expect.
func Encode(env Envelope) ([]byte, error) {
	env.At = env.At.UTC().Truncate(time.Millisecond)
	return json.Marshal(env)
}
