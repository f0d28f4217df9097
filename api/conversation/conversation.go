// Package conversation is the conversation resource (channels, groups and
// direct messages), its members and roles, and the access rules every
// conversation-scoped component (messages, reactions, read state, the event
// log) authorizes with.
//
// Visibility. A channel is public: any signed-in user may see it, read its
// messages and join it. A group or a DM is seen by its members only; to
// anyone else it does not exist (404, so ids do not leak). A caller who may
// see a conversation but not do what they asked gets 403.
//
// Every change members should see live is written with its event in one
// transaction (eventlog), and after commit the member set (membership), the
// caches (cache) and the stream follow, in that order (Env.Apply).
package conversation

import (
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// Kinds of conversation.
const (
	Channel = "channel"
	Group   = "group"
	DM      = "dm"
)

// Role is a member's role. The empty Role is "not a member".
type Role string

// Roles, strongest first.
const (
	Owner  Role = "owner"
	Admin  Role = "admin"
	Member Role = "member"
)

// Manager reports whether r may manage the conversation (settings, members).
func (r Role) Manager() bool { return r == Owner || r == Admin }

// Conversation is a row of conversations.
type Conversation struct {
	ID        id.ID
	Kind      string
	Name      *string
	Topic     string
	CreatedBy id.ID
	CreatedAt time.Time
	UpdatedAt time.Time
	// ArchivedAt is set while the conversation is archived (read-only).
	ArchivedAt *time.Time
	// MemberCount and DMUsers are read with the row (DMUsers for DMs only).
	MemberCount int
	DMUsers     []id.ID
}

// Membership is a row of memberships.
type Membership struct {
	ConversationID id.ID
	UserID         id.ID
	Role           Role
	JoinedAt       time.Time
	LastRead       id.ID
	// Level is the member's notification level; MutedUntil the end of
	// their mute in Unix milliseconds, 0 for none.
	Level      string
	MutedUntil int64
}

// Notification levels of a member (api/mention decides by them).
const (
	NotifyAll      = "all"
	NotifyMentions = "mentions"
	NotifyNone     = "none"
)

// Access is what a caller is to one conversation: all a policy decides on.
type Access struct {
	// Kind is the conversation's kind; "" when only membership was asked
	// (Env.Participant's fast path).
	Kind string
	// Role is the caller's role, "" when not a member.
	Role Role
}

// IsMember reports whether the caller is a member.
func (a Access) IsMember() bool { return a.Role != "" }
