package eventlog

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Replay limits: a client asks for at most MaxReplay events at once (a
// larger limit is clamped, not refused) and gets DefaultReplay by default.
const (
	DefaultReplay = 100
	MaxReplay     = 500
)

// Page is one page of a conversation's log.
type Page struct {
	// Items are envelopes, each with its top-level seq, in seq order.
	Items []json.RawMessage `json:"items"`
	// NextCursor is the after_seq of the next page; nil when the page
	// reached the newest event.
	NextCursor *string `json:"next_cursor"`
}

// ErrResync answers a replay that would have to skip events the log no
// longer keeps: the client reloads from the messages endpoints.
var ErrResync = fault.New(fault.ResyncRequired,
	"events after this seq are no longer kept; reload the conversation and resume from its newest seq")

// Replay returns up to limit events of c with seq > after, from db (the
// primary: a client that saw a gap must not be answered by a lagging
// replica). limit <= 0 means DefaultReplay; above MaxReplay it is clamped.
//
// The page is always contiguous from after+1: if the log lacks any seq in
// that run (retention trimmed it) the answer is ErrResync, never a page
// with a hole, since the client would apply it as if nothing were missing.
func Replay(ctx context.Context, db *pgxpool.Pool, c id.ID, after int64, limit int) (Page, error) {
	switch {
	case limit <= 0:
		limit = DefaultReplay
	case limit > MaxReplay:
		limit = MaxReplay
	}
	if after < 0 {
		return Page{}, fault.Invalid("after_seq", "after_seq must be 0 or more")
	}
	st := store{db}
	last, ok, err := st.lastSeq(ctx, c)
	if err != nil {
		return Page{}, err
	}
	if !ok {
		return Page{}, fault.New(fault.NotFound, "no such conversation")
	}
	seqs, envs, err := st.replay(ctx, c, after, limit)
	if err != nil {
		return Page{}, err
	}
	if len(seqs) == 0 && after < last {
		return Page{}, ErrResync
	}
	for i, s := range seqs {
		if s != after+1+int64(i) {
			return Page{}, ErrResync
		}
	}
	p := Page{Items: envs}
	if p.Items == nil {
		p.Items = []json.RawMessage{}
	}
	if n := len(seqs); n == limit && seqs[n-1] < last {
		cur := strconv.FormatInt(seqs[n-1], 10)
		p.NextCursor = &cur
	}
	return p, nil
}
