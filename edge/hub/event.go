package hub

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
)

// Event is one stream entry on its way to the shards. It is read-only once
// published, except for its frame cache.
type Event struct {
	// Topic is the entry's topic; Channel is the channel whose
	// subscriptions listen to it.
	Topic   string
	Channel cable.Channel
	// Type and Seq come from the envelope; Seq is 0 for ephemeral events.
	Type string
	Seq  int64
	// Subject is data.user_id of typing, member.left and session.revoked;
	// SID is data.sid of session.revoked.
	Subject id.ID
	SID     id.ID
	// Envelope is the encoded envelope, forwarded as it is.
	Envelope []byte
	// Time is when the entry entered its stream (the entry id's time).
	Time time.Time

	mu     sync.Mutex
	frames []identFrame
}

type identFrame struct {
	ident *Ident
	frame []byte
}

// ErrUnroutable is returned for an entry whose topic the edge does not know
// or whose envelope cannot be read.
var ErrUnroutable = errors.New("hub: unroutable stream entry")

// NewEvent reads what routing needs from a stream entry: the topic's
// channel, and the envelope's type, seq and, for the events the edge acts
// on, their subject. entryID is the stream entry id ("<ms>-<n>").
func NewEvent(topic string, envelope []byte, entryID string) (*Event, error) {
	ev := &Event{Topic: topic, Envelope: envelope, Time: EntryTime(entryID)}
	switch {
	case strings.HasPrefix(topic, rkey.TopicConversation):
		ev.Channel = cable.ConversationChannel
	case strings.HasPrefix(topic, rkey.TopicUser):
		ev.Channel = cable.CallChannel
	case strings.HasPrefix(topic, rkey.TopicPresence):
		ev.Channel = cable.PresenceChannel
	default:
		return nil, ErrUnroutable
	}
	var head struct {
		Type string          `json:"type"`
		Seq  int64           `json:"seq"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(envelope, &head); err != nil || head.Type == "" {
		return nil, ErrUnroutable
	}
	ev.Type, ev.Seq = head.Type, head.Seq
	switch head.Type {
	case event.Typing, event.MemberLeft, event.SessionRevoked:
		var d struct {
			UserID id.ID `json:"user_id"`
			SID    id.ID `json:"sid"`
		}
		if err := json.Unmarshal(head.Data, &d); err != nil || d.UserID == 0 {
			return nil, ErrUnroutable
		}
		if head.Type == event.SessionRevoked && d.SID == 0 {
			return nil, ErrUnroutable
		}
		ev.Subject, ev.SID = d.UserID, d.SID
	}
	return ev, nil
}

// EntryTime is the time in a stream entry id, or the zero time.
func EntryTime(entryID string) time.Time {
	i := strings.IndexByte(entryID, '-')
	if i <= 0 {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(entryID[:i], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// frame returns the broadcast frame of ev for ident, encoding it on first
// use. Shards on several loops may ask at once; each (event, identifier)
// is encoded exactly once.
func (ev *Event) frame(ident *Ident) []byte {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, f := range ev.frames {
		if f.ident == ident {
			return f.frame
		}
	}
	b := make([]byte, 0, cable.BroadcastLen(ident.Raw, ev.Envelope))
	b = cable.AppendBroadcast(b, ident.Raw, ev.Envelope)
	ev.frames = append(ev.frames, identFrame{ident, b})
	return b
}
