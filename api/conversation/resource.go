package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/id"
)

// JSON is the conversation resource: the one serializer of the REST API and
// of conversation.updated events. It is viewer-neutral; View adds the
// caller's fields.
type JSON struct {
	ID          id.ID     `json:"id"`
	Kind        string    `json:"kind"`
	Name        *string   `json:"name"`
	Topic       string    `json:"topic"`
	CreatedBy   id.ID     `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	MemberCount int       `json:"member_count"`
	// DMUserIDs are a DM's two members, lower id first (DMs only), so a
	// client can name a DM after the other person without another call.
	DMUserIDs []id.ID `json:"dm_user_ids,omitempty"`
}

// Render is c's resource.
func Render(c Conversation) JSON {
	return JSON{ID: c.ID, Kind: c.Kind, Name: c.Name, Topic: c.Topic, CreatedBy: c.CreatedBy,
		CreatedAt: ms(c.CreatedAt), UpdatedAt: ms(c.UpdatedAt), MemberCount: c.MemberCount, DMUserIDs: c.DMUsers}
}

// ms is t as every time the API sends: UTC, to the millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// View is a conversation as one caller sees it over REST: the resource and
// the caller's own fields, which events and caches never carry.
type View struct {
	JSON
	// Role is the caller's role; omitted when they are not a member.
	Role Role `json:"role,omitempty"`
	// LastReadMessageID is the caller's read marker (null before any).
	LastReadMessageID *id.ID `json:"last_read_message_id"`
	// UnreadCount counts the top-level messages by others after the
	// marker that are not deleted.
	UnreadCount    int       `json:"unread_count"`
	LastActivityAt time.Time `json:"last_activity_at"`
	// LastMessage is the newest top-level message (or its tombstone), as
	// the message resource renders it for the caller; null when none.
	LastMessage any `json:"last_message"`
	// LastSeq is the newest seq of the conversation's event log when the
	// answer was read (single-conversation answers only): a client
	// subscribing after loading resumes from it.
	LastSeq *int64 `json:"last_seq,omitempty"`
}

// Timeline is what the conversation list needs from each conversation's
// messages; the message package provides it.
type Timeline interface {
	// Previews answers, in order, each conversation's activity time, its
	// newest top-level message rendered for viewer, and viewer's unread
	// count after their read marker.
	Previews(ctx context.Context, viewer id.ID, reqs []PreviewRequest) ([]Preview, error)
}

// PreviewRequest asks for one conversation's preview.
type PreviewRequest struct {
	Conversation id.ID
	LastRead     id.ID
}

// Preview is one conversation's preview.
type Preview struct {
	LastActivityAt time.Time
	LastMessage    any
	Unread         int
}

// MemberJSON is the member resource; member.joined and member.left carry it.
// User is added to REST answers only.
type MemberJSON struct {
	UserID   id.ID      `json:"user_id"`
	Role     Role       `json:"role"`
	JoinedAt time.Time  `json:"joined_at"`
	User     *user.JSON `json:"user,omitempty"`
}

// RenderMember is m's resource, without the user.
func RenderMember(m Membership) MemberJSON {
	return MemberJSON{UserID: m.UserID, Role: m.Role, JoinedAt: ms(m.JoinedAt)}
}

// memberOf is one entry of a user's cached memberships.
type memberOf struct {
	Conversation id.ID `json:"c"`
	Role         Role  `json:"r"`
	// LastRead is an int64: 0 (no marker) is not a valid id.ID.
	LastRead int64 `json:"lr"`
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("conversation: encode: %w", err)
	}
	return b, nil
}

func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("conversation: decode cached entry: %w", err)
	}
	return nil
}
