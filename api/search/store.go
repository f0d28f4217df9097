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
// tsquery (its text) and the conversations to search.
type plan struct {
	query string
	// empty: the query made no lexeme (only punctuation); nothing matches.
	empty bool
	convs []int64
}

// prepare turns terms into the tsquery and reads u's conversations (only
// c when c is not 0; the caller checked u is its member), in one round
// trip.
func prepare(ctx context.Context, db *pgxpool.Pool, terms []term, u, c id.ID) (plan, error) {
	texts, prefix, negated := columns(terms)
	var p plan
	var nodes int
	err := db.QueryRow(ctx, `SELECT q::text, numnode(q),
  CASE WHEN $5::bigint <> 0 THEN ARRAY[$5::bigint]
       ELSE ARRAY(SELECT conversation_id FROM memberships WHERE user_id = $4) END
  FROM chatterly_search_query($1::text[], $2::boolean[], $3::boolean[]) q`,
		texts, prefix, negated, int64(u), int64(c)).Scan(&p.query, &nodes, &p.convs)
	if err != nil {
		return plan{}, fmt.Errorf("search: prepare: %w", err)
	}
	p.empty = nodes == 0
	return p, nil
}

// window bounds a search: ids in [From, To) (the time range), an author
// (0: anyone), and the keyset after the previous page (Rank, ID).
type window struct {
	From, To id.ID
	Author   id.ID
	After    cursor
}

// hit is one message found, with its rank and its headline (marked text).
type hit struct {
	ID             id.ID
	ConversationID id.ID
	Rank           float32
	Headline       string
}

// find reads up to limit messages of p's conversations matching p's query
// in w, best rank first (then newest), with their headlines. Only the rows
// of the page are given a headline, which is the costly part.
func find(ctx context.Context, db *pgxpool.Pool, p plan, w window, limit int) ([]hit, error) {
	rows, err := db.Query(ctx, `SELECT s.id, s.conversation_id, s.rank,
       ts_headline('chatterly_search', s.body, $1::tsquery, CASE WHEN length(s.body) <= $9 THEN $10 ELSE $11 END)
  FROM (SELECT m.id, m.conversation_id, m.body, ts_rank(m.search_vector, $1::tsquery) AS rank
          FROM messages m
         WHERE ARRAY[m.conversation_id] && $2::bigint[] AND m.search_vector @@ $1::tsquery
           AND m.deleted_at IS NULL AND m.id >= $3 AND m.id < $4
           AND ($5::bigint = 0 OR m.user_id = $5)) s
 WHERE s.rank < $6 OR (s.rank = $6 AND s.id < $7)
 ORDER BY s.rank DESC, s.id DESC
 LIMIT $8`, p.query, p.convs, int64(w.From), int64(w.To), int64(w.Author), w.After.Rank, int64(w.After.ID), limit,
		shortBody, wholeOptions, excerptOption)
	if err != nil {
		return nil, fmt.Errorf("search: find: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (hit, error) {
		var h hit
		err := r.Scan(&h.ID, &h.ConversationID, &h.Rank, &h.Headline)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("search: find: %w", err)
	}
	return out, nil
}
