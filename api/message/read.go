package message

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Paging limits of timelines and threads.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// pageSize is the cached newest page: a default page and one more, which
// tells whether an older page exists.
const pageSize = DefaultLimit + 1

// recentSize bounds the message ids a preview keeps to count unread
// messages from the cache; a reader further behind is counted in Postgres.
const recentSize = 100

// unreadCap bounds an unread count read from Postgres; clients show "999+".
const unreadCap = 1000

// tail is a conversation's preview material, cached by conversation.
type tail struct {
	Activity time.Time `json:"a"`
	Last     *Message  `json:"l,omitempty"`
	// Recent holds (id, author) of the newest top-level messages that are
	// not deleted, newest first, at most recentSize. Plain numbers, not
	// id.ID: this internal entry is decoded on every list read, and
	// numbers decode several times faster than id strings.
	Recent [][2]int64 `json:"r"`
	// Complete: Recent holds all of them.
	Complete bool `json:"c"`
}

// Page is a timeline or thread page rendered for one reader.
type Page = conversation.Page[any]

// List pages c's top-level messages for caller. k.Before and k.After are
// the cursors (0 for none); with neither, the newest page is read, newest
// first, through the cache (when it holds enough: the cached page has
// DefaultLimit messages and one more).
func (s *Service) List(ctx context.Context, caller, c id.ID, k Keyset) (Page, error) {
	a, err := s.env.Participant(ctx, c, caller)
	if err != nil {
		return Page{}, fault.Wrap(err, "list messages")
	}
	if err := CanRead(a); err != nil {
		return Page{}, err
	}
	k = clamp(k)
	if k.After == 0 && k.Before == 0 && k.Limit < pageSize {
		ms, err := s.newest(ctx, c)
		if err != nil {
			return Page{}, fault.Wrap(err, "list messages")
		}
		return renderPage(caller, ms, k.Limit), nil
	}
	// Pages of older messages may come from a replica; a page after a
	// cursor is "what is new" and must see the caller's own writes.
	q := s.env.Replica
	if k.After != 0 {
		q = s.env.DB
	}
	ms, err := timeline(ctx, q, c, 0, withOneMore(k))
	if err != nil {
		return Page{}, fault.Wrap(err, "list messages")
	}
	return renderPage(caller, ms, k.Limit), nil
}

// Replies pages the thread of top-level message root for caller, oldest
// first unless only Before is given.
func (s *Service) Replies(ctx context.Context, caller, root id.ID, k Keyset) (Page, error) {
	m, _, err := s.Get(ctx, caller, root)
	if err != nil {
		return Page{}, err
	}
	if m.ParentID != 0 {
		return Page{}, fault.New(fault.NotFound, "a reply has no thread; ask its parent_id for replies")
	}
	k = clamp(k)
	if k.Before == 0 {
		k.Asc = true
	}
	ms, err := timeline(ctx, s.env.DB, m.ConversationID, root, withOneMore(k))
	if err != nil {
		return Page{}, fault.Wrap(err, "list replies")
	}
	return renderPage(caller, ms, k.Limit), nil
}

func clamp(k Keyset) Keyset {
	switch {
	case k.Limit <= 0:
		k.Limit = DefaultLimit
	case k.Limit > MaxLimit:
		k.Limit = MaxLimit
	}
	// Paging forward from a cursor reads oldest first.
	k.Asc = k.After != 0
	return k
}

func withOneMore(k Keyset) Keyset { k.Limit++; return k }

// renderPage is the page of at most limit of ms (read with one more, which
// says whether another page exists) for reader.
func renderPage(reader id.ID, ms []Message, limit int) Page {
	var next *string
	if len(ms) > limit {
		ms = ms[:limit]
		n := ms[limit-1].ID.String()
		next = &n
	}
	items := make([]any, len(ms))
	for i, m := range ms {
		items[i] = For(m, reader)
	}
	return conversation.NewPage(items, next)
}

// newest returns c's cached newest page (pageSize messages at most,
// newest first).
func (s *Service) newest(ctx context.Context, c id.ID) ([]Message, error) {
	b, err := s.env.Cache.Get(ctx, Refs(c)[0], func(ctx context.Context) ([]byte, error) {
		ms, err := timeline(ctx, s.env.DB, c, 0, Keyset{Limit: pageSize})
		if err != nil {
			return nil, err
		}
		return json.Marshal(ms)
	})
	if err != nil {
		return nil, err
	}
	var ms []Message
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("message: decode cached page: %w", err)
	}
	return ms, nil
}

// Previews implements conversation.Timeline from the cached tails: the
// activity time, the newest message rendered for viewer, and the unread
// count, which only a reader more than recentSize messages behind costs a
// Postgres count.
func (s *Service) Previews(ctx context.Context, viewer id.ID, reqs []conversation.PreviewRequest) ([]conversation.Preview, error) {
	refs := make([]cache.Ref, len(reqs))
	for i, r := range reqs {
		refs[i] = Refs(r.Conversation)[1]
	}
	bs, err := s.env.Cache.GetMany(ctx, refs, func(ctx context.Context, i int) ([]byte, error) {
		t, err := tailRows(ctx, s.env.DB, reqs[i].Conversation, recentSize)
		if err != nil {
			return nil, err
		}
		return json.Marshal(t)
	})
	if err != nil {
		return nil, err
	}
	out := make([]conversation.Preview, len(reqs))
	for i, b := range bs {
		var t tail
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("message: decode cached preview: %w", err)
		}
		p := conversation.Preview{LastActivityAt: t.Activity}
		if t.Last != nil {
			p.LastMessage = For(*t.Last, viewer)
		}
		if p.Unread, err = s.unread(ctx, s.env.Replica, t, reqs[i], viewer); err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func (s *Service) unread(ctx context.Context, q *pgxpool.Pool, t tail, r conversation.PreviewRequest, viewer id.ID) (int, error) {
	n := 0
	for _, m := range t.Recent {
		if m[0] <= int64(r.LastRead) {
			return n, nil
		}
		if m[1] != int64(viewer) {
			n++
		}
	}
	if t.Complete {
		return n, nil
	}
	return unread(ctx, q, r.Conversation, r.LastRead, viewer, unreadCap)
}
