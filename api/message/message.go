// Package message is the message resource of a conversation's timeline and
// threads: sending (idempotent by client_msg_id), editing, soft deletion,
// keyset-paged reads, and the previews the conversation list shows.
//
// A message is top-level or a reply (parent_id: a top-level message of the
// same conversation; replies to replies are refused). Top-level messages
// carry reply_count and last_reply_at. A deleted message keeps its row;
// every read renders it as a tombstone (no body, no author, no reactions)
// in its place, and reply_count keeps counting deleted replies, which the
// thread still lists as tombstones.
//
// Reads of a timeline's newest page and of the conversation list's
// previews are cached (viewer-neutral: reactions keep their users, and
// each reader's `me` is computed after the cache); every write to a
// conversation's messages invalidates both entries before it answers.
package message

import (
	"time"

	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/shared/id"
)

// Message is a row of messages with its aggregated reactions. Its JSON form
// is the cache's, not the API's (Render makes that).
type Message struct {
	ID             id.ID      `json:"id"`
	ConversationID id.ID      `json:"c"`
	UserID         id.ID      `json:"u"`
	ParentID       id.ID      `json:"p,omitempty"` // 0 for a top-level message
	Body           string     `json:"b"`
	ReplyCount     int        `json:"rc,omitempty"`
	LastReplyAt    *time.Time `json:"lr,omitempty"`
	CreatedAt      time.Time  `json:"t"`
	EditedAt       *time.Time `json:"et,omitempty"`
	DeletedAt      *time.Time `json:"dt,omitempty"`
	Reactions      []Reaction `json:"r,omitempty"`
	// Mentions are the body's structured mentions; nil for none.
	Mentions *mention.Mentions `json:"mn,omitempty"`
	// Attachments are the files attached at the send (api/file); nil for
	// none. They never change, and a tombstone has none.
	Attachments []Attachment `json:"at,omitempty"`
	// ClientMsgID is known only to the answer of the send, and its
	// message.created event, so the sender can match its optimistic copy.
	ClientMsgID string `json:"-"`
}

// Reaction is one emoji on a message and who reacted with it, in the order
// they did. Users stay in the cache so each reader's `me` can be told
// without another query; the API shows only their count.
type Reaction struct {
	Emoji string  `json:"e"`
	Users []id.ID `json:"u"`
}

// Attachment is a file attached to a message, as its readers render it:
// the same form in the cache, the messages row, the REST API and the
// events. Its bytes are reached through GET /files/:id/url (members only).
type Attachment struct {
	ID          id.ID  `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	// Width and Height are an image's, in pixels; 0 otherwise.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Thumbnail says a small image variant exists (images only).
	Thumbnail bool `json:"thumbnail"`
}

// Deleted reports whether m is a tombstone.
func (m *Message) Deleted() bool { return m.DeletedAt != nil }
