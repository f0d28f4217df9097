package hub

import (
	"bytes"

	"github.com/chatterly/chatterly/edge/cable"
	"github.com/chatterly/chatterly/shared/id"
)

// Out is the socket behind a Conn, implemented by the server. Both methods
// are called on the socket's loop goroutine.
type Out interface {
	// Send writes one frame. The socket may close itself while sending (a
	// write error, or an outbound buffer over its bound); it then calls
	// Shard.Detach, which the shard expects even in the middle of Deliver.
	Send(frame []byte)
	// Disconnect sends the disconnect message for r and closes the socket.
	Disconnect(r cable.Reason)
}

// Conn is what a shard knows of an authenticated socket. The server embeds
// it in its socket state; it is touched only on the socket's loop.
type Conn struct {
	User id.ID
	SID  id.ID
	out  Out
	subs []*Sub
	// The sockets of one session in a shard form a list headed by
	// Shard.sids, so a revocation finds them without a scan.
	sidPrev, sidNext *Conn
	attached, gone   bool
}

// Init sets the socket's identity and output before Shard.Attach.
func (c *Conn) Init(user, sid id.ID, out Out) { c.User, c.SID, c.out = user, sid, out }

// Gone reports whether the socket was detached: nothing may be written to
// it any more.
func (c *Conn) Gone() bool { return c.gone }

// Subs is the socket's subscriptions; the caller must not keep the slice.
func (c *Conn) Subs() []*Sub { return c.subs }

// Find returns the subscription whose identifier literal is raw, or nil.
func (c *Conn) Find(raw []byte) *Sub {
	for _, s := range c.subs {
		if bytes.Equal(s.Ident.Raw, raw) {
			return s
		}
	}
	return nil
}

// Sub is one subscription of a socket. Its fields are ordered to keep it
// in an 80-byte allocation: every idle socket holds one.
type Sub struct {
	Conn  *Conn
	Ident *Ident
	// Conv is the conversation of a ConversationChannel subscription.
	Conv id.ID
	// lastSeq is the highest seq delivered, for dropping re-published events.
	lastSeq int64
	// main is the subscription's place in its topic (conv:, user:); a
	// PresenceChannel subscription has one place per watched user instead,
	// in watch.
	main    slot
	watch   *[]slot
	Channel cable.Channel
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
}
