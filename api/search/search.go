// Package search is message search: Postgres full-text search over the
// messages of the conversations the caller is a member of, and of no
// other (a channel one only reads is not searched until one joins it).
//
// Each message's body is indexed as it is written (messages.search_vector,
// a generated column, in the send's own statement), so a message is
// findable as soon as its send returns; a deleted message is never found
// (the index leaves deleted rows out, and the search asks for live ones).
// Results are ranked by ts_rank in batches by recency: the newest
// RankWindow matches (SEARCH_RANK_WINDOW, 500 by default) best first,
// then newest; then the next RankWindow older ones, ranked the same way;
// and so on to the oldest. A search thus costs at most one window's reads
// however long the history, and ranking stays where people look first.
// Pages follow a keyset on (batch, rank, id). Each result carries a snippet: the body's
// fragments around the matched words, as segments marked matched or not,
// never HTML, so the client renders it without trusting markup.
package search

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/shared/id"
)

// Paging of results.
const (
	DefaultLimit = 20
	MaxLimit     = 50
)

// Request is a search: the query (see query.go), optionally within one
// conversation, by one author, and sent in [Since, Until).
type Request struct {
	Query          string
	ConversationID id.ID
	AuthorID       id.ID
	Since, Until   time.Time
	Cursor         string
	Limit          int
}

// Segment is a piece of a snippet: text, and whether it is a matched word.
type Segment struct {
	Text  string `json:"text"`
	Match bool   `json:"match"`
}

// Hit is one result: the message as the timeline renders it for the
// caller, its conversation, its rank and its snippet.
type Hit struct {
	MessageID      id.ID     `json:"message_id"`
	ConversationID id.ID     `json:"conversation_id"`
	Rank           float32   `json:"rank"`
	Snippet        []Segment `json:"snippet"`
	Message        any       `json:"message"`
}

// DefaultRankWindow is how many of the newest matches a batch ranks.
const DefaultRankWindow = 500

// Service is message search.
type Service struct {
	env      *conversation.Env
	messages *message.Service
	window   int
}

// New returns a Service reading through env, rendering through messages,
// ranking batches of rankWindow matches.
func New(env *conversation.Env, messages *message.Service, rankWindow int) *Service {
	return &Service{env: env, messages: messages, window: rankWindow}
}

// Search runs r for caller. Only caller's conversations are searched; a
// ConversationID caller may not see is not_found, a channel they see but
// have not joined is forbidden (join first).
func (s *Service) Search(ctx context.Context, caller id.ID, r Request) (conversation.Page[Hit], error) {
	terms, err := parse(r.Query)
	if err != nil {
		return conversation.Page[Hit]{}, err
	}
	after, err := parseCursor(r.Cursor)
	if err != nil {
		return conversation.Page[Hit]{}, err
	}
	w := window{From: 0, To: math.MaxInt64, Author: r.AuthorID}
	if !r.Since.IsZero() {
		w.From = id.Floor(r.Since)
	}
	if !r.Until.IsZero() {
		w.To = id.Floor(r.Until)
	}
	limit := r.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	if r.ConversationID != 0 {
		a, err := s.env.Participant(ctx, r.ConversationID, caller)
		if err != nil {
			return conversation.Page[Hit]{}, fault.Wrap(err, "search messages")
		}
		if err := conversation.CanParticipate(a); err != nil {
			return conversation.Page[Hit]{}, err
		}
	}
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.MessageSearch, caller.String()); err != nil {
		return conversation.Page[Hit]{}, err
	}
	p, err := prepare(ctx, s.env.DB, terms, caller, r.ConversationID)
	if err != nil {
		return conversation.Page[Hit]{}, fault.Wrap(err, "search messages")
	}
	if p.empty || len(p.convs) == 0 || w.From >= w.To {
		return conversation.NewPage[Hit](nil, nil), nil
	}
	if after.Batch.Top == 0 {
		after.Batch.Top = w.To
	}
	// One more than asked tells whether another page exists.
	hits, err := s.collect(ctx, p, w, after, limit+1)
	if err != nil {
		return conversation.Page[Hit]{}, fault.Wrap(err, "search messages")
	}
	var next *string
	if len(hits) > limit {
		hits = hits[:limit]
		last := hits[limit-1]
		c := cursor{Batch: last.Batch, Rank: last.Rank, ID: last.ID}.String()
		next = &c
	}
	ids := make([]id.ID, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	msgs, err := s.messages.Rendered(ctx, caller, ids)
	if err != nil {
		return conversation.Page[Hit]{}, fault.Wrap(err, "search messages")
	}
	items := make([]Hit, 0, len(hits))
	for _, h := range hits {
		m, ok := msgs[h.ID].(message.JSON)
		if !ok {
			// Deleted (a tombstone) or gone since it was found.
			continue
		}
		items = append(items, Hit{MessageID: h.ID, ConversationID: h.ConversationID, Rank: h.Rank,
			Snippet: segments(h.Headline), Message: m})
	}
	return conversation.NewPage(items, next), nil
}

// segments splits a headline marked with startSel/stopSel into segments.
func segments(h string) []Segment {
	out := []Segment{}
	match := false
	for h != "" {
		sep := stopSel
		if !match {
			sep = startSel
		}
		text, rest, found := strings.Cut(h, sep)
		if text != "" {
			if n := len(out); n > 0 && out[n-1].Match == match {
				out[n-1].Text += text
			} else {
				out = append(out, Segment{Text: text, Match: match})
			}
		}
		h = rest
		if found {
			match = !match
		}
	}
	return out
}

// collect reads up to n hits after c: the rest of c's batch, then as
// many older batches as it takes.
func (s *Service) collect(ctx context.Context, p plan, w window, c cursor, n int) ([]hit, error) {
	var out []hit
	for {
		f, err := find(ctx, s.env.DB, p, w, c.Batch, c, s.window, n-len(out))
		if err != nil {
			return nil, err
		}
		// The batch as the next page must see it: its top pinned to just
		// above its newest match (messages sent since do not join it), its
		// low known when it was full (older matches remain below it). A
		// batch the cursor already knew keeps what it knew.
		b := c.Batch
		if b.Low == 0 && len(f.hits) > 0 {
			b.Top = min(b.Top, f.high+1)
			if f.total >= s.window {
				b.Low = f.low
			}
		}
		for _, h := range f.hits {
			h.Batch = b
			out = append(out, h)
		}
		if len(out) >= n || b.Low == 0 || b.Low <= w.From {
			return out, nil
		}
		c = cursor{Batch: batch{Top: b.Low}, Rank: first.Rank, ID: first.ID}
	}
}

// batch is a ranked window of matches: those with ids in [Low, Top). Low
// is 0 while unknown (the first read of a batch) and for the last batch
// (it holds every match down to the search's start).
type batch struct {
	Top, Low id.ID
}

// cursor is the keyset of the last result of a page: its batch, then,
// within it, results that rank lower, or the same and are older.
type cursor struct {
	Batch batch
	Rank  float32
	ID    id.ID
}

// first is the cursor before every result (its batch's top is the
// search's end, set by Search).
var first = cursor{Rank: float32(math.Inf(1)), ID: math.MaxInt64}

// String is the cursor as next_cursor: "<rank>_<id>_<top>_<low>", the
// rank written so that it reads back to the same float32.
func (c cursor) String() string {
	return strconv.FormatFloat(float64(c.Rank), 'g', -1, 32) + "_" + c.ID.String() + "_" +
		strconv.FormatInt(int64(c.Batch.Top), 10) + "_" + strconv.FormatInt(int64(c.Batch.Low), 10)
}

var errCursor = fault.Invalid("cursor", "cursor must be a next_cursor this endpoint returned")

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return first, nil
	}
	f := strings.Split(s, "_")
	if len(f) != 4 {
		return cursor{}, errCursor
	}
	rank, err := strconv.ParseFloat(f[0], 32)
	if err != nil || math.IsNaN(rank) || math.IsInf(rank, 0) || rank < 0 {
		return cursor{}, errCursor
	}
	mid, err := id.Parse(f[1])
	if err != nil {
		return cursor{}, errCursor
	}
	top, err1 := strconv.ParseInt(f[2], 10, 64)
	low, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || top <= 0 || low < 0 || low >= top {
		return cursor{}, errCursor
	}
	return cursor{Batch: batch{Top: id.ID(top), Low: id.ID(low)}, Rank: float32(rank), ID: mid}, nil
}
