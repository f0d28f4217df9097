package message

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// tail is a conversation's preview, cached by conversation. It is read on
// every conversation list (ten of them for a reader in ten conversations),
// so it is shaped to be cheap to read: the newest message is kept already
// rendered, the unread material is one string walked only as far as a
// reader's marker, and the entry is lines, not JSON (see encode), so a
// reader parses two numbers and slices the rest.
type tail struct {
	Activity time.Time
	// Complete: Recent holds every top-level message that is not deleted.
	Complete bool
	// View is the newest top-level message as events render it, which is
	// also its REST rendering unless it has reactions (`me` differs per
	// reader). JSON, or "" when there is none.
	View string
	// Last is that message in the cache's form (Message's JSON), kept only
	// when it has reactions, to render each reader's `me`.
	Last string
	// Recent is "id:author,id:author,…": the newest top-level messages
	// that are not deleted, newest first, at most recentSize.
	Recent string
	// MentionsComplete: Mentions holds every message that mentions
	// someone and is not deleted.
	MentionsComplete bool
	// Mentions is "id:author:flags:user;user,…": the newest messages (any
	// level) that mention someone and are not deleted, newest first, at
	// most recentSize; flags holds c for @channel and h for @here, the
	// users are those named.
	Mentions string
}

// newTail renders r as the cache keeps it.
func newTail(r tailRow) (tail, error) {
	t := tail{Activity: r.activity, Complete: r.complete}
	if r.last != nil {
		v, err := json.Marshal(Event(*r.last))
		if err != nil {
			return t, err
		}
		t.View = string(v)
		if len(r.last.Reactions) > 0 {
			l, err := json.Marshal(r.last)
			if err != nil {
				return t, err
			}
			t.Last = string(l)
		}
	}
	b := make([]byte, 0, len(r.recent)*40)
	for i, m := range r.recent {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, m[0], 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, m[1], 10)
	}
	t.Recent = string(b)
	t.MentionsComplete = r.mentionsComplete
	b = b[:0]
	for i, m := range r.mentions {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, m.id, 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, m.author, 10)
		b = append(b, ':')
		if m.mentions.Channel {
			b = append(b, 'c')
		}
		if m.mentions.Here {
			b = append(b, 'h')
		}
		b = append(b, ':')
		for j, u := range m.mentions.Users {
			if j > 0 {
				b = append(b, ';')
			}
			b = strconv.AppendInt(b, int64(u.ID), 10)
		}
	}
	t.Mentions = string(b)
	return t, nil
}

// encode is the cached value of t: six lines, activity (Unix
// microseconds), complete (0 or 1), View, Last, Recent, and
// MentionsComplete (0 or 1) followed by Mentions. Compact JSON never holds
// a raw newline, so the lines cannot be confused.
func (t tail) encode() ([]byte, error) {
	b := make([]byte, 0, len(t.View)+len(t.Last)+len(t.Recent)+len(t.Mentions)+40)
	b = strconv.AppendInt(b, t.Activity.UnixMicro(), 10)
	b = append(b, '\n')
	if t.Complete {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, '\n')
	b = append(b, t.View...)
	b = append(b, '\n')
	b = append(b, t.Last...)
	b = append(b, '\n')
	b = append(b, t.Recent...)
	b = append(b, '\n')
	if t.MentionsComplete {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	return append(b, t.Mentions...), nil
}

// decodeTail reads a cached value made by encode. b is the cached string
// itself: the tail's parts are slices of it, nothing is copied.
func decodeTail(b string) (tail, error) {
	var t tail
	var parts [6]string
	n := 0
	for ; n < 5; n++ {
		var ok bool
		if parts[n], b, ok = strings.Cut(b, "\n"); !ok {
			break
		}
	}
	if n != 5 || len(parts[1]) != 1 || len(b) == 0 {
		return t, fmt.Errorf("message: cached preview has %d of 6 lines", n+1)
	}
	parts[5] = b
	us, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return t, fmt.Errorf("message: cached preview: %w", err)
	}
	t.Activity = time.UnixMicro(us).UTC()
	t.Complete = parts[1][0] == '1'
	t.View, t.Last, t.Recent = parts[2], parts[3], parts[4]
	t.MentionsComplete, t.Mentions = parts[5][0] == '1', parts[5][1:]
	return t, nil
}

// lastFor renders t's newest message for viewer ("" when none).
func (t tail) lastFor(viewer id.ID) (string, error) {
	if t.Last == "" {
		return t.View, nil
	}
	var m Message
	if err := json.Unmarshal([]byte(t.Last), &m); err != nil {
		return "", err
	}
	b, err := json.Marshal(For(m, viewer))
	return string(b), err
}

// countUnread walks t.Recent, newest first, counting messages not by
// viewer, until it meets one at or below the marker. reached is false when
// the list ran out first and is not complete: the count is then a floor.
func (t tail) countUnread(marker, viewer int64) (n int, reached bool, err error) {
	for rest := t.Recent; rest != ""; {
		var entry string
		entry, rest = firstItem(rest, ',')
		idPart, author, ok := strings.Cut(entry, ":")
		mid, err1 := strconv.ParseInt(idPart, 10, 64)
		uid, err2 := strconv.ParseInt(author, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return 0, false, fmt.Errorf("message: bad cached preview entry %q", entry)
		}
		if mid <= marker {
			return n, true, nil
		}
		if uid != viewer {
			n++
		}
	}
	return n, t.Complete, nil
}

// countMentions walks t.Mentions, newest first, counting messages not by
// viewer that mention them (by name, @channel or @here), until it meets one
// at or below the marker. reached is false when the list ran out first and
// is not complete: the count is then a floor.
func (t tail) countMentions(marker, viewer int64) (n int, reached bool, err error) {
	for rest := t.Mentions; rest != ""; {
		var entry string
		entry, rest = firstItem(rest, ',')
		idPart, more, ok1 := strings.Cut(entry, ":")
		author, more, ok2 := strings.Cut(more, ":")
		flags, users, ok3 := strings.Cut(more, ":")
		mid, err1 := strconv.ParseInt(idPart, 10, 64)
		uid, err2 := strconv.ParseInt(author, 10, 64)
		if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
			return 0, false, fmt.Errorf("message: bad cached mention entry %q", entry)
		}
		if mid <= marker {
			return n, true, nil
		}
		if uid != viewer && (flags != "" || namesUser(users, viewer)) {
			n++
		}
	}
	return n, t.MentionsComplete, nil
}

// firstItem splits list at its first sep: the first item and the rest ("" when
// it was the last).
func firstItem(list string, sep byte) (item, rest string) {
	if i := strings.IndexByte(list, sep); i >= 0 {
		return list[:i], list[i+1:]
	}
	return list, ""
}

// namesUser reports whether the ";"-separated ids hold u.
func namesUser(ids string, u int64) bool {
	for ids != "" {
		var x string
		x, ids = firstItem(ids, ';')
		if v, err := strconv.ParseInt(x, 10, 64); err == nil && v == u {
			return true
		}
	}
	return false
}

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
		p, err := s.newest(ctx, c, caller, k.Limit)
		if err != nil {
			return Page{}, fault.Wrap(err, "list messages")
		}
		return p, nil
	}
	// Pages of older messages may lag (a replica's, once it has what the
	// caller wrote); a page after a cursor is "what is new" and is read
	// from the primary.
	var ms []Message
	if k.After != 0 {
		ms, err = timeline(ctx, s.env.DB, c, 0, withOneMore(k))
	} else {
		err = s.env.Replica.Read(ctx, caller, func(db *pgxpool.Pool) (err error) {
			ms, err = timeline(ctx, db, c, 0, withOneMore(k))
			return err
		})
	}
	if err != nil {
		return Page{}, fault.Wrap(err, "list messages")
	}
	p, err := renderPage(caller, ms, k.Limit)
	if err != nil {
		return Page{}, fault.Wrap(err, "list messages")
	}
	return p, nil
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
	p, err := renderPage(caller, ms, k.Limit)
	if err != nil {
		return Page{}, fault.Wrap(err, "list replies")
	}
	return p, nil
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

// newest is c's cached newest page (pageSize messages at most, newest
// first), at most limit of them, rendered for reader.
func (s *Service) newest(ctx context.Context, c, reader id.ID, limit int) (Page, error) {
	v, err := s.env.Cache.Get(ctx, Refs(c)[0], func(ctx context.Context) ([]byte, error) {
		ms, err := timeline(ctx, s.env.DB, c, 0, Keyset{Limit: pageSize})
		if err != nil {
			return nil, err
		}
		return encodePage(ms)
	})
	if err != nil {
		return Page{}, err
	}
	return decodePage(v, reader, limit)
}

// Previews implements conversation.Timeline from the cached tails: the
// activity time, the newest message rendered for viewer, and the unread
// count, which only a reader more than recentSize messages behind costs a
// Postgres count.
func (s *Service) Previews(ctx context.Context, viewer id.ID, reqs []conversation.PreviewRequest) ([]conversation.Preview, error) {
	refs := make([]cache.Ref, len(reqs))
	for i, r := range reqs {
		refs[i] = cache.Ref{Kind: kindTail, ID: r.Conversation.String()}
	}
	bs, err := s.env.Cache.GetMany(ctx, refs, func(ctx context.Context, i int) ([]byte, error) {
		r, err := tailRows(ctx, s.env.DB, reqs[i].Conversation, recentSize)
		if err != nil {
			return nil, err
		}
		t, err := newTail(r)
		if err != nil {
			return nil, err
		}
		return t.encode()
	})
	if err != nil {
		return nil, err
	}
	out := make([]conversation.Preview, len(reqs))
	for i, b := range bs {
		t, err := decodeTail(b)
		if err != nil {
			return nil, err
		}
		p := conversation.Preview{LastActivityAt: t.Activity}
		if p.LastMessage, err = t.lastFor(viewer); err != nil {
			return nil, fmt.Errorf("message: render preview: %w", err)
		}
		n, reached, err := t.countUnread(int64(reqs[i].LastRead), int64(viewer))
		if err != nil {
			return nil, err
		}
		if !reached {
			err = s.env.Replica.Read(ctx, viewer, func(db *pgxpool.Pool) (err error) {
				n, err = unread(ctx, db, reqs[i].Conversation, reqs[i].LastRead, viewer, unreadCap)
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		p.Unread = n
		if p.Mentions, reached, err = t.countMentions(int64(reqs[i].LastRead), int64(viewer)); err != nil {
			return nil, err
		}
		if !reached {
			err = s.env.Replica.Read(ctx, viewer, func(db *pgxpool.Pool) (err error) {
				p.Mentions, err = mentionCount(ctx, db, reqs[i].Conversation, reqs[i].LastRead, viewer, unreadCap)
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		out[i] = p
	}
	return out, nil
}

// Rendered reads the messages ids and renders each for viewer, as the
// timeline would (a deleted one as its tombstone), by id; an id that names
// no message is left out. It does not authorize: callers (pins, saved
// messages) list only messages they have checked viewer may read.
func (s *Service) Rendered(ctx context.Context, viewer id.ID, ids []id.ID) (map[id.ID]any, error) {
	out := make(map[id.ID]any, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ms, err := loadMany(ctx, s.env.DB, ids)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out[m.ID] = For(m, viewer)
	}
	return out, nil
}
