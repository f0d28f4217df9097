package hub

import (
	"bytes"
	"strings"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
)

// Out writes to the sockets behind Conns; the server implements it, one
// per loop. Both methods are called on the loop's goroutine. (The hub does
// not keep an Out per Conn: 16 bytes on every idle socket.)
type Out interface {
	// Send writes one frame to c's socket. The socket may close while
	// sending (a write error, or an outbound buffer over its bound); it
	// then calls Shard.Detach, which the shard expects even in the middle
	// of Deliver.
	Send(c *Conn, frame []byte)
	// SendMany writes several frames to c's socket at once (one writev),
	// like Send otherwise. frames is the shard's scratch: the callee may
	// reslice its elements but must not keep it.
	SendMany(c *Conn, frames [][]byte)
	// Disconnect sends the disconnect message for r and closes c's socket.
	Disconnect(c *Conn, r cable.Reason)
}

// Conn is what a shard knows of an authenticated socket. The server embeds
// it in its socket state; it is touched only on the socket's loop.
type Conn struct {
	User id.ID
	SID  id.ID
	// subs is the socket's subscriptions, linked through Sub.next: a
	// socket has a few, and a list head costs an idle socket 8 bytes where
	// a slice would cost 24 and an allocation.
	subs           *Sub
	attached, gone bool
	// batch is 1 + the socket's index in its shard's pending writes while
	// a batch is being delivered, else 0.
	batch int32
}

// Init sets the socket's identity before Shard.Attach.
func (c *Conn) Init(user, sid id.ID) { c.User, c.SID = user, sid }

// Gone reports whether the socket was detached: nothing may be written to
// it any more.
func (c *Conn) Gone() bool { return c.gone }

// NumSubs is the number of the socket's subscriptions.
func (c *Conn) NumSubs() int {
	n := 0
	for s := c.subs; s != nil; s = s.next {
		n++
	}
	return n
}

// Find returns the subscription whose identifier literal is raw, or nil.
func (c *Conn) Find(raw []byte) *Sub {
	for s := c.subs; s != nil; s = s.next {
		if bytes.Equal(s.Ident.Raw, raw) {
			return s
		}
	}
	return nil
}

// FindTopic returns the subscription of channel ch on topic topicName
// (empty for PresenceChannel, which a socket holds once), whatever its
// identifier's spelling, or nil. The edge allows one subscription per
// topic per socket: two spellings of one identifier would otherwise be
// delivered every event twice.
func (c *Conn) FindTopic(ch cable.Channel, topicName string) *Sub {
	for s := c.subs; s != nil; s = s.next {
		if s.main.ch != ch {
			continue
		}
		if topicName == "" || (s.main.topic != nil && s.main.topic.name == topicName) {
			return s
		}
	}
	return nil
}

// Sub is one subscription of a socket. It fills a 64-byte allocation (every
// idle socket holds one): its channel rides in main's padding, and a
// conversation's id is read from its topic when an action needs it.
type Sub struct {
	Conn  *Conn
	next  *Sub // the socket's next subscription
	Ident *Ident
	// lastSeq is the highest seq delivered, for dropping re-published events.
	lastSeq int64
	// main is the subscription's place in its topic (conv:, user:); a
	// PresenceChannel subscription has one place per watched user instead,
	// in watch.
	main  slot
	watch *[]slot
}

// Channel is the subscription's channel.
func (s *Sub) Channel() cable.Channel { return s.main.ch }

// Conv is the conversation of a ConversationChannel subscription (0 for
// other channels).
func (s *Sub) Conv() id.ID {
	if s.main.ch != cable.ConversationChannel || s.main.topic == nil {
		return 0
	}
	c, _ := id.Parse(strings.TrimPrefix(s.main.topic.name, rkey.TopicConversation))
	return c
}

// Watched is the number of users a presence subscription watches.
func (s *Sub) Watched() int {
	if s.watch == nil {
		return 0
	}
	return len(*s.watch)
}

// slot is one entry of a topic's subscriber list: the subscription and its
// index in the list, kept so removal is a swap with the last entry.
type slot struct {
	sub   *Sub
	topic *topic
	pos   int32
	ch    cable.Channel // the subscription's channel, in main only
}
