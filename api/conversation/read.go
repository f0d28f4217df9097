package conversation

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Paging limits of the conversation, member and channel lists.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// memberOfList returns u's memberships through the cache.
func (s *Service) memberOfList(ctx context.Context, u id.ID) ([]memberOf, error) {
	b, err := s.env.Cache.Get(ctx, MemberOfRef(u), func(ctx context.Context) ([]byte, error) {
		ms, err := memberOfRows(ctx, s.env.DB, u)
		if err != nil {
			return nil, err
		}
		return encodeMemberOf(ms), nil
	})
	if err != nil {
		return nil, fault.Wrap(err, "list conversations")
	}
	ms, err := decodeMemberOf(b)
	if err != nil {
		return nil, fault.Wrap(err, "list conversations")
	}
	return ms, nil
}

// resources returns the cached resource JSON of convs, in order.
func (s *Service) resources(ctx context.Context, convs []id.ID) ([]string, error) {
	refs := make([]cache.Ref, len(convs))
	for i, c := range convs {
		refs[i] = ConversationRef(c)
	}
	return s.env.Cache.GetMany(ctx, refs, func(ctx context.Context, i int) ([]byte, error) {
		conv, err := loadConversation(ctx, s.env.DB, convs[i])
		if err != nil {
			return nil, err
		}
		return marshal(Render(conv))
	})
}

// views builds the caller's views of the conversations mine.
func (s *Service) views(ctx context.Context, caller id.ID, mine []memberOf) ([]View, error) {
	convs := make([]id.ID, len(mine))
	reqs := make([]PreviewRequest, len(mine))
	for i, m := range mine {
		convs[i] = id.ID(m.Conversation)
		reqs[i] = PreviewRequest{Conversation: convs[i], LastRead: id.ID(m.LastRead)}
	}
	res, err := s.resources(ctx, convs)
	if err != nil {
		return nil, err
	}
	prev, err := s.timeline.Previews(ctx, caller, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(mine))
	for i, m := range mine {
		out[i] = View{ID: convs[i], Resource: res[i], Role: m.Role, LastRead: m.LastRead, Unread: prev[i].Unread,
			Mentions: prev[i].Mentions, Level: m.Level, MutedUntil: m.MutedUntil,
			LastActivityAt: prev[i].LastActivityAt, LastMessage: prev[i].LastMessage}
	}
	return out, nil
}

// List returns a page of caller's conversations, most recent activity
// first. cursor is the previous page's next_cursor ("" for the first).
// Every part comes from the cache when it is warm: the caller's
// memberships, each conversation's resource, each preview.
func (s *Service) List(ctx context.Context, caller id.ID, cursor string, limit int) ([]View, *string, error) {
	limit = clampLimit(limit)
	after, err := parseListCursor(cursor)
	if err != nil {
		return nil, nil, err
	}
	mine, err := s.memberOfList(ctx, caller)
	if err != nil {
		return nil, nil, err
	}
	views, err := s.views(ctx, caller, mine)
	if err != nil {
		return nil, nil, fault.Wrap(err, "list conversations")
	}
	// slices.SortFunc, not sort.Slice: no reflection, and its swaps of
	// these large structs were a twentieth of a cached list's CPU.
	slices.SortFunc(views, order)
	start := 0
	if after != nil {
		start = sort.Search(len(views), func(i int) bool { return before(*after, views[i]) })
	}
	page := views[start:min(start+limit, len(views))]
	var next *string
	if start+len(page) < len(views) && len(page) > 0 {
		last := page[len(page)-1]
		c := strconv.FormatInt(ms(last.LastActivityAt).UnixMicro(), 10) + "_" + last.ID.String()
		next = &c
	}
	return page, next, nil
}

// before orders the list: newer activity first (to the millisecond the
// API shows), then higher id.
func before(a, b View) bool { return order(a, b) < 0 }

// order is before as a comparison: negative when a comes first.
func order(a, b View) int {
	if c := ms(b.LastActivityAt).Compare(ms(a.LastActivityAt)); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

func parseListCursor(c string) (*View, error) {
	if c == "" {
		return nil, nil
	}
	bad := fault.Invalid("cursor", "cursor must be a next_cursor this endpoint returned")
	t, i, ok := strings.Cut(c, "_")
	if !ok {
		return nil, bad
	}
	us, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return nil, bad
	}
	cid, err := id.Parse(i)
	if err != nil {
		return nil, bad
	}
	return &View{ID: cid, LastActivityAt: time.UnixMicro(us).UTC()}, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

// Get returns caller's view of c, with the log's newest seq.
func (s *Service) Get(ctx context.Context, caller, c id.ID) (View, error) {
	mine, err := s.memberOfList(ctx, caller)
	if err != nil {
		return View{}, err
	}
	var entry *memberOf
	for i := range mine {
		if id.ID(mine[i].Conversation) == c {
			entry = &mine[i]
		}
	}
	outsider := entry == nil
	if outsider {
		res, err := s.env.Resource(ctx, c)
		if err != nil || CanSee(Access{Kind: res.Kind}) != nil {
			return View{}, orNotFound(err)
		}
		// A channel seen from outside: no role, no marker, no unread.
		entry = &memberOf{Conversation: int64(c)}
	}
	vs, err := s.views(ctx, caller, []memberOf{*entry})
	if err != nil {
		return View{}, orNotFound(err)
	}
	v := vs[0]
	if outsider {
		v.Unread, v.Mentions = 0, 0
	}
	seq, err := lastSeq(ctx, s.env.DB, c)
	if err != nil {
		return View{}, fault.Wrap(err, "get conversation")
	}
	v.LastSeq = &seq
	return v, nil
}

// orNotFound passes fault errors (not_found among them) through and wraps
// the rest.
func orNotFound(err error) error {
	if err == nil {
		return errNotFound
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	return fault.Wrap(err, "get conversation")
}

// ViewOf is caller's view of conv right after caller changed it: read from
// the primary, bypassing the caches (they were just invalidated).
func (s *Service) ViewOf(ctx context.Context, caller id.ID, conv Conversation) (View, error) {
	m, _, err := loadMembership(ctx, s.env.DB, conv.ID, caller)
	if err != nil {
		return View{}, fault.Wrap(err, "view conversation")
	}
	vs, err := s.views(ctx, caller, []memberOf{{Conversation: int64(conv.ID), Role: m.Role, LastRead: int64(m.LastRead),
		Level: m.Level, MutedUntil: m.MutedUntil}})
	if err != nil {
		return View{}, fault.Wrap(err, "view conversation")
	}
	v := vs[0]
	res, err := marshal(Render(conv))
	if err != nil {
		return View{}, fault.Wrap(err, "view conversation")
	}
	v.Resource = string(res)
	seq, err := lastSeq(ctx, s.env.DB, conv.ID)
	if err != nil {
		return View{}, fault.Wrap(err, "view conversation")
	}
	v.LastSeq = &seq
	return v, nil
}

// Members returns a page of c's members, by user id, after the user id
// cursor.
func (s *Service) Members(ctx context.Context, caller, c id.ID, cursor string, limit int) ([]MemberJSON, *string, error) {
	a, err := s.env.Participant(ctx, c, caller)
	if err != nil {
		return nil, nil, fault.Wrap(err, "list members")
	}
	if err := CanListMembers(a); err != nil {
		return nil, nil, err
	}
	var after id.ID
	if cursor != "" {
		if after, err = id.Parse(cursor); err != nil {
			return nil, nil, fault.Invalid("cursor", "cursor must be a next_cursor this endpoint returned")
		}
	}
	limit = clampLimit(limit)
	var out []MemberJSON
	err = s.env.Replica.Read(ctx, caller, func(db *pgxpool.Pool) (err error) {
		out, err = members(ctx, db, c, after, limit)
		return err
	})
	if err != nil {
		return nil, nil, fault.Wrap(err, "list members")
	}
	var next *string
	if len(out) == limit {
		n := out[len(out)-1].UserID.String()
		next = &n
	}
	return out, next, nil
}

// ChannelView is a channel in the browse list: the resource and whether the
// caller is a member.
type ChannelView struct {
	JSON
	IsMember bool `json:"is_member"`
}

// Channels returns a page of channels whose name starts with query, by
// name, after the name cursor.
func (s *Service) Channels(ctx context.Context, caller id.ID, query, cursor string, limit int) ([]ChannelView, *string, error) {
	limit = clampLimit(limit)
	q := strings.ToLower(strings.TrimSpace(query))
	if len(q) > maxName {
		return nil, nil, fault.Invalid("query", "a channel name has at most 80 characters")
	}
	var convs []Conversation
	var member []bool
	err := s.env.Replica.Read(ctx, caller, func(db *pgxpool.Pool) (err error) {
		convs, member, err = channels(ctx, db, q, cursor, caller, limit)
		return err
	})
	if err != nil {
		return nil, nil, fault.Wrap(err, "browse channels")
	}
	out := make([]ChannelView, len(convs))
	for i, c := range convs {
		out[i] = ChannelView{JSON: Render(c), IsMember: member[i]}
	}
	var next *string
	if len(out) == limit {
		n := *out[len(out)-1].Name
		next = &n
	}
	return out, next, nil
}

// Events replays c's log after afterSeq for a member.
func (s *Service) Events(ctx context.Context, caller, c id.ID, afterSeq string, limit int) (eventlog.Page, error) {
	a, err := s.env.Participant(ctx, c, caller)
	if err != nil {
		return eventlog.Page{}, fault.Wrap(err, "replay events")
	}
	if err := CanParticipate(a); err != nil {
		return eventlog.Page{}, err
	}
	var after int64
	if afterSeq != "" {
		if after, err = strconv.ParseInt(afterSeq, 10, 64); err != nil || after < 0 {
			return eventlog.Page{}, fault.Invalid("after_seq", "after_seq must be a whole number, 0 or more")
		}
	}
	p, err := eventlog.Replay(ctx, s.env.DB, c, after, limit)
	if _, ok := fault.As(err); err != nil && !ok {
		return eventlog.Page{}, fault.Wrap(err, "replay events")
	}
	return p, err
}
