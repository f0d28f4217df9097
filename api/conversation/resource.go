package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
	// ArchivedAt is set while the conversation is archived (read-only).
	ArchivedAt *time.Time `json:"archived_at"`
	// DMUserIDs are a DM's two members, lower id first (DMs only), so a
	// client can name a DM after the other person without another call.
	DMUserIDs []id.ID `json:"dm_user_ids,omitempty"`
}

// Render is c's resource.
func Render(c Conversation) JSON {
	j := JSON{ID: c.ID, Kind: c.Kind, Name: c.Name, Topic: c.Topic, CreatedBy: c.CreatedBy,
		CreatedAt: ms(c.CreatedAt), UpdatedAt: ms(c.UpdatedAt), MemberCount: c.MemberCount, DMUserIDs: c.DMUsers}
	if c.ArchivedAt != nil {
		t := ms(*c.ArchivedAt)
		j.ArchivedAt = &t
	}
	return j
}

// ms is t as every time the API sends: UTC, to the millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// View is a conversation as one caller sees it over REST: the resource and
// the caller's own fields, which events and caches never carry. It renders
// (MarshalJSON) as the resource's members followed by:
//
//	role                  the caller's role; omitted when not a member
//	last_read_message_id  the caller's read marker, null before any
//	unread_count          top-level messages by others after the marker,
//	                      not deleted (counted up to 1,000)
//	mention_count         messages by others after the marker, not
//	                      deleted, that mention the caller (by name,
//	                      @channel or @here; counted up to 1,000)
//	notify_level          the caller's notification level (all, mentions,
//	                      none); omitted when not a member
//	muted_until           the end of the caller's mute, null when not
//	                      muted; omitted when not a member
//	last_activity_at      the newest message's time, or the creation's
//	last_message          the newest top-level message (or its tombstone)
//	                      as the message resource renders it for the
//	                      caller; null when none
//	last_seq              the log's newest seq when the answer was read
//	                      (single-conversation answers only): a client
//	                      subscribing after loading resumes from it
//
// The resource and the message arrive as JSON from the caches and are
// spliced, not decoded and encoded again: the conversation list is the
// api's hottest read.
type View struct {
	ID       id.ID
	Resource string // JSON object, as cached
	Role     Role
	LastRead int64
	Unread   int
	Mentions int
	// Level and MutedUntil (Unix ms, 0 for none) are the caller's
	// notification settings.
	Level          string
	MutedUntil     int64
	LastActivityAt time.Time
	LastMessage    string // JSON object or ""
	LastSeq        *int64
}

// MarshalJSON renders v as documented on View.
func (v View) MarshalJSON() ([]byte, error) {
	return v.AppendJSON(make([]byte, 0, len(v.Resource)+len(v.LastMessage)+160))
}

// AppendJSON appends v's JSON to b.
func (v View) AppendJSON(b []byte) ([]byte, error) {
	r := v.Resource
	if len(r) < 2 || r[0] != '{' || r[len(r)-1] != '}' {
		return nil, fmt.Errorf("conversation: resource of %s is not a JSON object", v.ID)
	}
	b = append(b, r[:len(r)-1]...)
	if v.Role != "" {
		b = append(b, `,"role":"`...)
		b = append(b, v.Role...)
		b = append(b, '"')
	}
	b = append(b, `,"last_read_message_id":`...)
	if v.LastRead > 0 {
		b = append(b, '"')
		b = strconv.AppendInt(b, v.LastRead, 10)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"unread_count":`...)
	b = strconv.AppendInt(b, int64(v.Unread), 10)
	b = append(b, `,"mention_count":`...)
	b = strconv.AppendInt(b, int64(v.Mentions), 10)
	if v.Role != "" {
		b = append(b, `,"notify_level":"`...)
		if v.Level == "" {
			b = append(b, NotifyAll...)
		} else {
			b = append(b, v.Level...)
		}
		b = append(b, `","muted_until":`...)
		if v.MutedUntil > 0 {
			b = append(b, '"')
			b = time.UnixMilli(v.MutedUntil).UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		} else {
			b = append(b, "null"...)
		}
	}
	b = append(b, `,"last_activity_at":"`...)
	b = ms(v.LastActivityAt).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","last_message":`...)
	if len(v.LastMessage) > 0 {
		b = append(b, v.LastMessage...)
	} else {
		b = append(b, "null"...)
	}
	if v.LastSeq != nil {
		b = append(b, `,"last_seq":`...)
		b = strconv.AppendInt(b, *v.LastSeq, 10)
	}
	return append(b, '}'), nil
}

// Timeline is what the conversation list needs from each conversation's
// messages; the message package provides it.
type Timeline interface {
	// Previews answers, in order, each conversation's activity time, its
	// newest top-level message rendered for viewer, and viewer's unread
	// count and mention count after their read marker.
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
	// LastMessage is the newest top-level message rendered for the
	// viewer; "" when there is none.
	LastMessage string
	Unread      int
	// Mentions counts the messages after the marker that mention the
	// viewer.
	Mentions int
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
	Conversation int64
	Role         Role
	// LastRead is 0 before any marker (not a valid id.ID, hence int64).
	LastRead int64
	// Level is the notification level; MutedUntil the mute's end in Unix
	// milliseconds, 0 for none.
	Level      string
	MutedUntil int64
}

// encodeMemberOf is the cached form of ms: one "conversation role marker
// level muted_until" line each. Read on every conversation list, it is
// parsed by hand rather than as JSON.
func encodeMemberOf(ms []memberOf) []byte {
	b := make([]byte, 0, len(ms)*64)
	for _, m := range ms {
		b = strconv.AppendInt(b, m.Conversation, 10)
		b = append(b, ' ')
		b = append(b, m.Role...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.LastRead, 10)
		b = append(b, ' ')
		if m.Level == "" {
			b = append(b, NotifyAll...)
		} else {
			b = append(b, m.Level...)
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.MutedUntil, 10)
		b = append(b, '\n')
	}
	return b
}

// decodeMemberOf reads what encodeMemberOf wrote, slicing b (a cached
// string) without copying it. A line of three fields (an entry cached
// before notification settings existed) reads as the defaults.
func decodeMemberOf(b string) ([]memberOf, error) {
	out := make([]memberOf, 0, strings.Count(b, "\n"))
	for b != "" {
		line, rest, _ := strings.Cut(b, "\n")
		b = rest
		conv, rest, ok1 := strings.Cut(line, " ")
		role, rest, ok2 := strings.Cut(rest, " ")
		lastRead, rest, more := strings.Cut(rest, " ")
		level, muted, ok3 := strings.Cut(rest, " ")
		if !more {
			level, muted, ok3 = NotifyAll, "0", true
		}
		c, err1 := strconv.ParseInt(conv, 10, 64)
		lr, err2 := strconv.ParseInt(lastRead, 10, 64)
		mu, err3 := strconv.ParseInt(muted, 10, 64)
		if !ok1 || !ok2 || !ok3 || role == "" || level == "" || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("conversation: bad cached membership %q", line)
		}
		out = append(out, memberOf{Conversation: c, Role: Role(role), LastRead: lr, Level: level, MutedUntil: mu})
	}
	return out, nil
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
