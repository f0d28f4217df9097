package search

import (
	"context"
	"fmt"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of search is in this file.

// Marks ts_headline puts around the words that matched: control
// characters, which a message body never holds (message.cleanBody), so
// splitting on them cannot cut a body's own text.
const (
	startSel = "\x02"
	stopSel  = "\x03"
)

// The headline of a short message (up to shortBody characters) is the
// whole of it, with its matches marked; a longer one's is up to two
// fragments around its matches.
const (
	shortBody     = 280
	marks         = `StartSel="` + startSel + `", StopSel="` + stopSel + `"`
	wholeOptions  = marks + `, HighlightAll=true`
	excerptOption = marks + `, MaxFragments=2, MaxWords=24, MinWords=8, FragmentDelimiter=" … "`
)

// plan is what a search needs before it reads messages: the query as a
// tsquery (its text: what a message must match, positions included), what
// the index is asked (index: the query's words, prefixes' and phrases'
// shortcuts; see migration 0011) and the conversations to search.
type plan struct {
	query, index string
	// empty: the query made no lexeme to find (only punctuation, or only
	// left-out terms); nothing matches.
	empty bool
	convs []int64
}

// prepare turns terms into the tsquery and reads u's conversations (only
// c when c is not 0; the caller checked u is its member), in one round
// trip.
func prepare(ctx context.Context, db *pgxpool.Pool, terms []term, u, c id.ID) (plan, error) {
	texts, prefix, negated := columns(terms)
	var p plan
	var nodes, indexNodes int
	err := db.QueryRow(ctx, `SELECT q::text, numnode(q), iq::text, numnode(iq),
  CASE WHEN $5::bigint <> 0 THEN ARRAY[$5::bigint]
       ELSE ARRAY(SELECT conversation_id FROM memberships WHERE user_id = $4) END
  FROM chatterly_search_query($1::text[], $2::boolean[], $3::boolean[]) q,
       chatterly_search_index_query($1::text[], $2::boolean[], $3::boolean[]) iq`,
		texts, prefix, negated, int64(u), int64(c)).Scan(&p.query, &nodes, &p.index, &indexNodes, &p.convs)
	if err != nil {
		return plan{}, fmt.Errorf("search: prepare: %w", err)
	}
	p.empty = nodes == 0 || indexNodes == 0
	return p, nil
}

// window bounds a search: ids in [From, To) (the time range) and an
// author (0: anyone).
type window struct {
	From, To id.ID
	Author   id.ID
}

// hit is one message found, with its rank, its headline (marked text) and
// the batch it was ranked in.
type hit struct {
	ID             id.ID
	ConversationID id.ID
	Rank           float32
	Headline       string
	Batch          batch
}

// found is what one read of a batch returns: the hits after the cursor,
// and the batch's extent (known whenever a hit was returned).
type found struct {
	hits []hit
	// high and low are the newest and oldest ids in the batch; total is
	// how many matches it holds.
	high, low id.ID
	total     int
}

// find reads, ranked best first (then newest), up to limit hits of batch
// b after c: the newest size live matches of p's query in p's
// conversations among the ids [max(w.From, b.Low), b.Top), by w.Author.
// Only the rows of the page are given a headline, which is the costly
// part; ranking the batch reads each of its rows once
// (chatterly_search_recent).
func find(ctx context.Context, db *pgxpool.Pool, p plan, w window, b batch, c cursor, size, limit int) (found, error) {
	lo := max(w.From, b.Low)
	rows, err := db.Query(ctx, `SELECT s.id, s.conversation_id, s.rank,
       ts_headline('chatterly_search', s.body, $1::tsquery, CASE WHEN length(s.body) <= $10 THEN $11 ELSE $12 END),
       s.high, s.low, s.total
  FROM (SELECT r.id, r.conversation_id, r.body, r.rank,
               max(r.id) OVER () AS high, min(r.id) OVER () AS low, count(*) OVER () AS total
          FROM chatterly_search_recent($1::tsquery, $13::tsquery, $2::bigint[], $3, $4, $5, $6) r) s
 WHERE s.rank < $7 OR (s.rank = $7 AND s.id < $8)
 ORDER BY s.rank DESC, s.id DESC
 LIMIT $9`, p.query, p.convs, int64(lo), int64(b.Top), int64(w.Author), size,
		c.Rank, int64(c.ID), limit, shortBody, wholeOptions, excerptOption, p.index)
	if err != nil {
		return found{}, fmt.Errorf("search: find: %w", err)
	}
	var f found
	var h hit
	_, err = pgx.ForEachRow(rows, []any{&h.ID, &h.ConversationID, &h.Rank, &h.Headline, &f.high, &f.low, &f.total}, func() error {
		f.hits = append(f.hits, h)
		return nil
	})
	if err != nil {
		return found{}, fmt.Errorf("search: find: %w", err)
	}
	return f, nil
}
