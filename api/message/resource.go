package message

import (
	"time"

	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/shared/id"
)

// JSON is the message resource: the one serializer of the REST API and of
// message.* events (which leave Me out of reactions).
type JSON struct {
	ID             id.ID          `json:"id"`
	ConversationID id.ID          `json:"conversation_id"`
	UserID         id.ID          `json:"user_id"`
	ParentID       *id.ID         `json:"parent_id"`
	Body           string         `json:"body"`
	ReplyCount     int            `json:"reply_count"`
	LastReplyAt    *time.Time     `json:"last_reply_at"`
	CreatedAt      time.Time      `json:"created_at"`
	EditedAt       *time.Time     `json:"edited_at"`
	DeletedAt      *time.Time     `json:"deleted_at"`
	Reactions      []ReactionJSON `json:"reactions"`
	// Mentions are null for a message that mentions nobody.
	Mentions *mention.Mentions `json:"mentions"`
	// Attachments is [] for a message without files.
	Attachments []Attachment `json:"attachments"`
	ClientMsgID string       `json:"client_msg_id,omitempty"`
}

// TombstoneJSON is a deleted message in its place: no body (null), no
// author, no reactions. Thread fields stay, so a deleted thread root still
// leads to its replies.
type TombstoneJSON struct {
	ID             id.ID          `json:"id"`
	ConversationID id.ID          `json:"conversation_id"`
	ParentID       *id.ID         `json:"parent_id"`
	Body           *string        `json:"body"`
	ReplyCount     int            `json:"reply_count"`
	LastReplyAt    *time.Time     `json:"last_reply_at"`
	CreatedAt      time.Time      `json:"created_at"`
	DeletedAt      time.Time      `json:"deleted_at"`
	Reactions      []ReactionJSON `json:"reactions"`
}

// ReactionJSON is one aggregated reaction. Me is the reader's own: set on
// REST answers, absent from events.
type ReactionJSON struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
	Me    *bool  `json:"me,omitempty"`
}

// Event renders m as events carry it: no per-viewer fields.
func Event(m Message) any { return render(m, 0, false) }

// For renders m for viewer, with `me` on its reactions.
func For(m Message, viewer id.ID) any { return render(m, viewer, true) }

func render(m Message, viewer id.ID, personal bool) any {
	var parent *id.ID
	if m.ParentID != 0 {
		p := m.ParentID
		parent = &p
	}
	if m.Deleted() {
		return TombstoneJSON{ID: m.ID, ConversationID: m.ConversationID, ParentID: parent,
			ReplyCount: m.ReplyCount, LastReplyAt: msp(m.LastReplyAt), CreatedAt: ms(m.CreatedAt),
			DeletedAt: ms(*m.DeletedAt), Reactions: []ReactionJSON{}}
	}
	j := JSON{ID: m.ID, ConversationID: m.ConversationID, UserID: m.UserID, ParentID: parent, Body: m.Body,
		ReplyCount: m.ReplyCount, LastReplyAt: msp(m.LastReplyAt), CreatedAt: ms(m.CreatedAt),
		EditedAt: msp(m.EditedAt), Reactions: make([]ReactionJSON, len(m.Reactions)), Mentions: m.Mentions,
		Attachments: m.Attachments, ClientMsgID: m.ClientMsgID}
	if j.Attachments == nil {
		j.Attachments = []Attachment{}
	}
	for i, r := range m.Reactions {
		j.Reactions[i] = ReactionJSON{Emoji: r.Emoji, Count: len(r.Users)}
		if personal {
			me := contains(r.Users, viewer)
			j.Reactions[i].Me = &me
		}
	}
	return j
}

func contains(us []id.ID, u id.ID) bool {
	for _, x := range us {
		if x == u {
			return true
		}
	}
	return false
}

// ms is t as every time the API sends: UTC, to the millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func msp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}
