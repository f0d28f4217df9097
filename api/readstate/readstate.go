// Package readstate is each member's read marker in a conversation: the id
// of the newest message they have read. A marker only moves forward, and
// unread counts (conversation list) follow it.
//
// A marker change is the reader's own business: it goes, as read.updated,
// to the reader's user topic only (their other devices), never to the
// conversation, since fanning every member's marker out to every member
// costs members² per conversation.
package readstate

import (
	"context"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/valyala/fasthttp"
)

// JSON is the read state resource: the REST answer, and (without
// UnreadCount and MentionCount, per-reader counts that events do not
// carry) the data of read.updated.
type JSON struct {
	ConversationID    id.ID `json:"conversation_id"`
	LastReadMessageID id.ID `json:"last_read_message_id"`
	UnreadCount       *int  `json:"unread_count,omitempty"`
	MentionCount      *int  `json:"mention_count,omitempty"`
}

// Service is the read markers' domain.
type Service struct {
	env      *conversation.Env
	timeline conversation.Timeline
}

// New returns a Service counting unread messages with timeline.
func New(env *conversation.Env, timeline conversation.Timeline) *Service {
	return &Service{env: env, timeline: timeline}
}

// Mount adds the read state route to r.
func (s *Service) Mount(r *rest.Router) {
	r.Handle("POST", "/conversations/:id/read", s.read, rest.MaxBody(1<<10))
}

// MarkRead moves caller's marker in c forward to message mid (a message of
// c) and returns the marker, which stays where it was when mid is older.
func (s *Service) MarkRead(ctx context.Context, caller, c, mid id.ID) (JSON, error) {
	_, a, err := s.env.Access(ctx, c, caller)
	if err != nil {
		return JSON{}, err
	}
	if err := CanMarkRead(a); err != nil {
		return JSON{}, err
	}
	in, err := messageIn(ctx, s.env.DB, mid, c)
	if err != nil {
		return JSON{}, fault.Wrap(err, "mark read")
	}
	if !in {
		return JSON{}, fault.Invalid("message_id", "message_id must be a message of this conversation")
	}
	marker, moved, err := advance(ctx, s.env.DB, c, caller, mid)
	if err != nil {
		return JSON{}, fault.Wrap(err, "mark read")
	}
	out := JSON{ConversationID: c, LastReadMessageID: marker}
	if moved {
		ctx := context.WithoutCancel(ctx)
		if err := s.env.Cache.Invalidate(ctx, conversation.MemberOfRef(caller)); err != nil {
			s.env.Log.WarnContext(ctx, "cache not invalidated; entries expire by TTL", "err", err)
		}
		env := event.Envelope{Type: event.ReadUpdated, ConversationID: c, At: s.env.Now()}
		if env.Data, err = jsonOf(out); err == nil {
			_, err = s.env.UserEvents.AppendEvent(ctx, rkey.UserTopic(caller), env)
		}
		if err != nil {
			// The marker is saved; other devices see it on their next load.
			s.env.Log.WarnContext(ctx, "read.updated not published", "conversation_id", c.String(), "err", err)
		}
	}
	p, err := s.timeline.Previews(ctx, caller, []conversation.PreviewRequest{{Conversation: c, LastRead: marker}})
	if err != nil {
		return JSON{}, fault.Wrap(err, "mark read")
	}
	out.UnreadCount, out.MentionCount = &p[0].Unread, &p[0].Mentions
	return out, nil
}

type readRequest struct {
	MessageID id.ID `json:"message_id"`
}

func (s *Service) read(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req readRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	if req.MessageID == 0 {
		return fault.Invalid("message_id", "message_id is required")
	}
	out, err := s.MarkRead(c.Context(), c.UserID(), cid, req.MessageID)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, out)
}

// CanMarkRead: members keep markers; a channel's non-members have none.
func CanMarkRead(a conversation.Access) error { return conversation.CanParticipate(a) }
