package search_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/pgtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestMain stops what the tests started for the whole package.
func TestMain(m *testing.M) { pgtest.Main(m) }

type hitJSON struct {
	MessageID      id.ID   `json:"message_id"`
	ConversationID id.ID   `json:"conversation_id"`
	Rank           float32 `json:"rank"`
	Snippet        []struct {
		Text  string `json:"text"`
		Match bool   `json:"match"`
	} `json:"snippet"`
	Message *convtest.Message `json:"message"`
}

type page = convtest.Page[hitJSON]

// hitIDs are the page's message ids, in order.
func hitIDs(p page) []id.ID {
	out := []id.ID{}
	for _, h := range p.Items {
		out = append(out, h.MessageID)
	}
	return out
}

// walk pages through query as u, limit hits a page, and returns every
// hit's id in order; after the first page it calls between (when not nil).
func walk(t *testing.T, s *apitest.Stack, u convtest.User, query string, limit int, between func()) []id.ID {
	t.Helper()
	var out []id.ID
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20, "pages never end")
		v := q(query, "limit", strconv.Itoa(limit))
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		p := find(t, s, u, v)
		require.LessOrEqual(t, len(p.Items), limit)
		out = append(out, hitIDs(p)...)
		if pages == 0 && between != nil {
			between()
		}
		if p.NextCursor == nil {
			return out
		}
		cursor = *p.NextCursor
	}
}

// find searches as u with the query parameters q and returns the page.
func find(t *testing.T, s *apitest.Stack, u convtest.User, q url.Values) page {
	t.Helper()
	return convtest.Get[page](t, s, u, "/search/messages?"+q.Encode())
}

// bodies are the hits' message bodies, sorted.
func bodies(p page) []string {
	out := []string{}
	for _, h := range p.Items {
		out = append(out, *h.Message.Body)
	}
	sort.Strings(out)
	return out
}

func q(query string, kv ...string) url.Values {
	v := url.Values{"query": {query}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// A person finds the messages of their own conversations only: never a
// group, DM or channel they are not a member of (a channel they could
// read included), never a deleted message; a message is found as soon as
// its send returns, and an edit is found by its new words.
func TestSearchSeesOnlyOwnConversationsAndLiveMessages(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	dm := convtest.Create(t, s, ann, "dm", "", eve)
	ch := convtest.Create(t, s, eve, "channel", "open")
	convtest.Send(t, s, ann, g.ID, "the pineapple plan for friday")
	convtest.Send(t, s, ann, dm.ID, "pineapple secrets between ann and eve")
	convtest.Send(t, s, eve, ch.ID, "pineapple in the open channel")

	// Found as soon as the send returned: no waiting, no refresh.
	require.Equal(t, []string{"the pineapple plan for friday"}, bodies(find(t, s, bob, q("pineapple"))))
	require.Equal(t, []string{"pineapple secrets between ann and eve", "the pineapple plan for friday"},
		bodies(find(t, s, ann, q("pineapple"))))
	require.Equal(t, []string{"pineapple in the open channel", "pineapple secrets between ann and eve"},
		bodies(find(t, s, eve, q("pineapple"))))

	// bob may read the channel but is not a member: it is not searched,
	// and asking for it by id is 403 (join first); the DM does not exist
	// for him (404), nor does a made-up conversation.
	r := s.Do("GET", "/search/messages?"+q("pineapple", "conversation_id", ch.ID.String()).Encode(), bob.Token, nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = s.Do("GET", "/search/messages?"+q("pineapple", "conversation_id", dm.ID.String()).Encode(), bob.Token, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	r = s.Do("GET", "/search/messages?"+q("pineapple", "conversation_id", "12345").Encode(), bob.Token, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusCreated, s.Do("POST", "/conversations/"+ch.ID.String()+"/join", bob.Token, nil).Status)
	require.Equal(t, []string{"pineapple in the open channel", "the pineapple plan for friday"},
		bodies(find(t, s, bob, q("pineapple"))))
	only := find(t, s, bob, q("pineapple", "conversation_id", ch.ID.String()))
	require.Equal(t, []string{"pineapple in the open channel"}, bodies(only))
	require.Equal(t, ch.ID, only.Items[0].ConversationID)

	// Deleted: never found, by anyone, in any way.
	victim := convtest.Send(t, s, bob, g.ID, "a pineapple to delete")
	require.Len(t, find(t, s, ann, q("delete")).Items, 1)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+victim.ID.String(), bob.Token, nil).Status)
	for _, u := range []convtest.User{ann, bob} {
		require.Empty(t, find(t, s, u, q("delete")).Items)
		require.NotContains(t, bodies(find(t, s, u, q("pineapple"))), "a pineapple to delete")
	}
	// Edited: found by its new words, not its old ones.
	m := convtest.Send(t, s, ann, g.ID, "mango smoothie")
	require.Equal(t, http.StatusOK, s.Do("PATCH", "/messages/"+m.ID.String(), ann.Token, map[string]any{"body": "kiwi smoothie"}).Status)
	require.Empty(t, find(t, s, bob, q("mango")).Items)
	require.Equal(t, []string{"kiwi smoothie"}, bodies(find(t, s, bob, q("kiwi"))))

	// Leaving a group takes its messages out of one's results.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/conversations/"+g.ID.String()+"/membership", bob.Token, nil).Status)
	require.Equal(t, []string{"pineapple in the open channel"}, bodies(find(t, s, bob, q("pineapple"))))
}

// The query language: stemming (and the words as written, so stop words
// and names are found), phrases, prefixes, exclusions; and the filters by
// author and time.
func TestSearchQueries(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	for _, b := range []string{
		"She was running late to the standup",
		"The runners met at dawn",
		"We run the deploy tomorrow",
		"deploy postponed, the database is busy",
		"The Who played last night",
		"Grüße aus München von Zoë",
	} {
		convtest.Send(t, s, ann, g.ID, b)
	}
	late := convtest.Send(t, s, bob, g.ID, "Bob runs the database migration")

	// Stemming: "runs" finds running, run and runs (not "runners", another stem).
	require.Equal(t, []string{"Bob runs the database migration", "She was running late to the standup", "We run the deploy tomorrow"},
		bodies(find(t, s, ann, q("runs"))))
	// Stop words are found by their simple form; so are names and other languages' words.
	require.Equal(t, []string{"The Who played last night"}, bodies(find(t, s, ann, q(`"the who"`))))
	require.Equal(t, []string{"Grüße aus München von Zoë"}, bodies(find(t, s, ann, q("zoë münchen"))))
	// Phrase: the words next to each other, in order.
	require.Equal(t, []string{"We run the deploy tomorrow"}, bodies(find(t, s, ann, q(`"run the deploy"`))))
	require.Empty(t, find(t, s, ann, q(`"deploy run"`)).Items)
	// A message's last word and its first are not a phrase (its stemmed and
	// written words are one vector, the written ones after the stemmed).
	require.Empty(t, find(t, s, ann, q(`"migration bob"`)).Items)
	// Prefix: words as written starting with "runn" ("run" is no such word).
	require.Equal(t, []string{"She was running late to the standup", "The runners met at dawn"}, bodies(find(t, s, ann, q("runn*"))))
	require.Equal(t, []string{"Bob runs the database migration", "deploy postponed, the database is busy"},
		bodies(find(t, s, ann, q("datab*"))))
	// A prefix that is a whole word finds it; a prefix of 6 letters or more,
	// or of 1 or 2, completes words the same way (see TestSearchIndexQuery).
	require.Equal(t, []string{"Bob runs the database migration"}, bodies(find(t, s, ann, q("runs*"))))
	require.Equal(t, []string{"Bob runs the database migration", "deploy postponed, the database is busy"},
		bodies(find(t, s, ann, q("databas*"))))
	require.Equal(t, []string{"Bob runs the database migration", "She was running late to the standup", "The runners met at dawn", "We run the deploy tomorrow"},
		bodies(find(t, s, ann, q("ru*"))))
	// Exclusion, of a word and of a phrase.
	require.Equal(t, []string{"deploy postponed, the database is busy"}, bodies(find(t, s, ann, q("database -migration"))))
	require.Equal(t, []string{"Bob runs the database migration"}, bodies(find(t, s, ann, q(`database -"is busy"`))))
	// Words are ANDed.
	require.Equal(t, []string{"We run the deploy tomorrow"}, bodies(find(t, s, ann, q("deploy tomorrow"))))
	// Punctuation only: a valid query that finds nothing.
	require.Empty(t, find(t, s, ann, q("!!! ...")).Items)

	// Author filter.
	require.Equal(t, []string{"Bob runs the database migration"}, bodies(find(t, s, ann, q("database", "author_id", bob.ID.String()))))
	// Time window: since is inclusive, until exclusive, by when the message was sent.
	at := late.ID.Time()
	require.Equal(t, []string{"Bob runs the database migration"},
		bodies(find(t, s, ann, q("database", "since", at.Format(time.RFC3339Nano)))))
	require.Equal(t, []string{"deploy postponed, the database is busy"},
		bodies(find(t, s, ann, q("database", "until", at.Format(time.RFC3339Nano)))))
	require.Empty(t, find(t, s, ann, q("database", "since", at.Add(time.Hour).Format(time.RFC3339))).Items)

	// Snippets are segments: the matched words marked, nothing else; no markup.
	h := find(t, s, ann, q("migration")).Items[0]
	var text strings.Builder
	var matched []string
	for _, seg := range h.Snippet {
		text.WriteString(seg.Text)
		if seg.Match {
			matched = append(matched, seg.Text)
		}
	}
	require.Equal(t, "Bob runs the database migration", text.String())
	require.Equal(t, []string{"migration"}, matched)
	require.Greater(t, h.Rank, float32(0))
	// A long message's snippet is fragments around its matches.
	long := strings.Repeat("filler words go here and on ", 20) + "the quarterly zeppelin report " + strings.Repeat("more padding text follows ", 20)
	convtest.Send(t, s, ann, g.ID, long)
	h = find(t, s, ann, q("zeppelin")).Items[0]
	text.Reset()
	matched = nil
	for _, seg := range h.Snippet {
		text.WriteString(seg.Text)
		if seg.Match {
			matched = append(matched, seg.Text)
		}
	}
	require.Equal(t, []string{"zeppelin"}, matched)
	require.Contains(t, text.String(), "quarterly zeppelin report")
	require.Less(t, len(text.String()), len(long)/2)

	// Bad requests are 400 problems naming the parameter.
	for _, c := range []struct{ query, field string }{
		{"", "query"}, {"-only -exclusions", "query"}, {strings.Repeat("x", 501), "query"},
	} {
		r := s.Do("GET", "/search/messages?"+q(c.query).Encode(), ann.Token, nil)
		require.Equal(t, http.StatusBadRequest, r.Status, "%q: %s", c.query, r.Body)
		require.Equal(t, "validation_failed", r.Code())
		require.Equal(t, c.field, r.Map(t)["field"], "%s", r.Body)
	}
	for _, c := range [][2]string{
		{"since", "yesterday"}, {"until", "2026-13-01T00:00:00Z"}, {"since", "2026-01-01"},
		{"conversation_id", "x"}, {"author_id", "-4"}, {"cursor", "nope"}, {"cursor", "NaN_12"}, {"limit", "0"},
	} {
		r := s.Do("GET", "/search/messages?"+q("database", c[0], c[1]).Encode(), ann.Token, nil)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s=%s: %s", c[0], c[1], r.Body)
		require.Equal(t, c[0], r.Map(t)["field"], "%s", r.Body)
	}
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/search/messages?query=x", "", nil).Status)
}

// Results come best first (a message saying the words more often ranks
// higher), then newest first; pages follow each other without a gap or a
// repeat, and the last says there is no next.
func TestSearchRanksAndPages(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann := convtest.NewUser(t, s, "ann")
	g := convtest.Create(t, s, ann, "group", "g")
	best := convtest.Send(t, s, ann, g.ID, "lunch lunch lunch: lunch today?")
	var plain []id.ID
	for i := 0; i < 7; i++ {
		plain = append(plain, convtest.Send(t, s, ann, g.ID, "lunch is at noon, item "+string(rune('a'+i))).ID)
	}
	convtest.Send(t, s, ann, g.ID, "nothing to see here")

	all := find(t, s, ann, q("lunch"))
	require.Len(t, all.Items, 8)
	require.Nil(t, all.NextCursor)
	require.Equal(t, best.ID, all.Items[0].MessageID, "most mentions rank first")
	require.Greater(t, all.Items[0].Rank, all.Items[1].Rank)
	// The equally ranked ones, newest first.
	for i := 1; i < 8; i++ {
		require.Equal(t, plain[7-i], all.Items[i].MessageID)
	}

	paged := walk(t, s, ann, "lunch", 3, nil)
	require.Equal(t, hitIDs(all), paged)
}

// The index is asked a prefix of 3 to 5 letters as its shortcut (one
// posting list) or the word itself, a shorter or longer one as a prefix of
// its lexemes, and a phrase as the hashes of its adjacent pairs, which a
// message's index terms hold; a left-out phrase is not asked of the index
// (a hash names other pairs too), and a query of nothing else to find is
// empty.
func TestSearchIndexQuery(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ctx := context.Background()
	asked := func(terms []string, prefix, negated []bool) string {
		var q string
		require.NoError(t, s.Deps.DB.QueryRow(ctx, `SELECT chatterly_search_index_query($1, $2, $3)::text`, terms, prefix, negated).Scan(&q))
		return q
	}
	one := func(term string, prefix bool) string { return asked([]string{term}, []bool{prefix}, []bool{false}) }
	require.Equal(t, `'renfi*' | 'renfi'`, one("Renfi", true))
	require.Equal(t, `'ren*' | 'ren'`, one("ren", true))
	require.Equal(t, `'renfiol':*`, one("renfiol", true))
	require.Equal(t, `'re':*`, one("re", true))
	require.Equal(t, `'run' | 'running'`, one("running", false))
	phrase := one("run the deploy", false)
	require.Regexp(t, `^'\*[0-9a-f]{1,4}' & '\*[0-9a-f]{1,4}'$`, phrase)
	require.Equal(t, `'deploy' & ( 'run' | 'running' )`,
		asked([]string{"deploy", "running", "on friday"}, []bool{false, false, false}, []bool{false, false, true}))
	require.Empty(t, asked([]string{"!!!", "deploy"}, []bool{false, false}, []bool{false, true}))

	var holds bool
	body := "We run the deploy tomorrow"
	require.NoError(t, s.Deps.DB.QueryRow(ctx, `SELECT chatterly_search_terms(chatterly_search_vector($1), $1) @@ $2::tsquery
   AND chatterly_search_terms(chatterly_search_vector($1), $1) @@ 'tom*'
   AND NOT chatterly_search_terms(chatterly_search_vector($1), $1) @@ 'tomorrow*'`, body, phrase).Scan(&holds))
	require.True(t, holds, "the index terms of %q hold its pairs and its words' prefixes", body)
}

// The search index, and statistics on its expression, are on every
// partition of messages, the ones the worker makes later included; the
// index leaves deleted messages out.
func TestSearchIndexOnNewPartitions(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ctx := context.Background()
	future := time.Now().UTC().AddDate(2, 0, 0)
	var made int
	require.NoError(t, s.Deps.DB.QueryRow(ctx, "SELECT chatterly_ensure_partitions('messages', $1, 1)", future).Scan(&made))
	require.Equal(t, 1, made)
	texts := func(query string) []string {
		rows, err := s.Deps.DB.Query(ctx, query)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	indexes := texts(`SELECT c.relname || ': ' || pg_get_indexdef(i.indexrelid)
  FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_index i ON i.indrelid = c.oid
 WHERE h.inhparent = 'messages'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%gin%'`)
	var parts int
	require.NoError(t, s.Deps.DB.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages'::regclass`).Scan(&parts))
	require.Len(t, indexes, parts, "every partition has the search index: %v", indexes)
	for _, d := range indexes {
		require.Contains(t, d, "(ARRAY[conversation_id]), chatterly_search_terms(search_vector, body)) WHERE (deleted_at IS NULL)")
	}
	// And statistics on the index's expression (migration 0012).
	without := texts(`SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
 WHERE h.inhparent = 'messages'::regclass AND NOT EXISTS (SELECT FROM pg_statistic_ext x
   WHERE x.stxrelid = c.oid AND pg_get_statisticsobjdef_expressions(x.oid)::text = '{"chatterly_search_terms(search_vector, body)"}')`)
	require.Empty(t, without, "partitions without statistics on the search index's expression")
}

// Hits are ranked in batches of the newest SEARCH_RANK_WINDOW matches:
// the best of an older batch comes after every hit of a newer one. The
// walk crosses months (partitions) to fill a batch; pages follow each
// other without a gap or a repeat across batches; a message sent while
// paging does not join, and one deleted while paging ends no batch early.
func TestSearchRanksTheNewestMatchesFirstInBatches(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"SEARCH_RANK_WINDOW": "3"})
	ctx := context.Background()
	ann := convtest.NewUser(t, s, "ann")
	g := convtest.Create(t, s, ann, "group", "g")
	// Older history, written as an import would: five and two months ago.
	now := time.Now().UTC()
	var made int
	require.NoError(t, s.Deps.DB.QueryRow(ctx, "SELECT chatterly_ensure_partitions('messages', $1, 6)", now.AddDate(0, -6, 0)).Scan(&made))
	old := func(months int, k int64, body string) id.ID {
		mid := id.Floor(now.AddDate(0, -months, 0)) + id.ID(k)
		_, err := s.Deps.DB.Exec(ctx, `INSERT INTO messages (id, conversation_id, user_id, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
			int64(mid), int64(g.ID), int64(ann.ID), body, now.AddDate(0, -months, 0))
		require.NoError(t, err)
		return mid
	}
	best := old(5, 1, "lunch lunch lunch lunch, the best lunch thread")
	a := old(2, 1, "lunch a")
	b := old(2, 2, "lunch b")
	c := convtest.Send(t, s, ann, g.ID, "lunch c").ID
	d := convtest.Send(t, s, ann, g.ID, "lunch d").ID
	e := convtest.Send(t, s, ann, g.ID, "lunch lunch e").ID

	// Newest three ranked (e says it twice), then the older three ranked:
	// the old thread is the best match of all but comes in the second batch.
	want := []id.ID{e, d, c, best, b, a}
	require.Equal(t, want, hitIDs(find(t, s, ann, q("lunch"))))
	require.Equal(t, []id.ID{e, d, c, b, a}, hitIDs(find(t, s, ann, q("lunch", "since", now.AddDate(0, -3, 0).Format(time.RFC3339)))))
	require.Equal(t, []id.ID{best, b, a}, hitIDs(find(t, s, ann, q("lunch", "until", now.AddDate(0, -1, 0).Format(time.RFC3339)))))

	// Pages of two: e d | c best | b a. After the first page a new match
	// is sent and d is deleted; neither changes the rest of the walk.
	paged := walk(t, s, ann, "lunch", 2, func() {
		convtest.Send(t, s, ann, g.ID, "lunch lunch lunch lunch lunch now")
		r := s.Do("DELETE", "/messages/"+c.String(), ann.Token, nil)
		require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	})
	require.Equal(t, []id.ID{e, d, best, b, a}, paged)

	// A cursor of another shape (an older server's) is refused.
	r := s.Do("GET", "/search/messages?"+q("lunch", "cursor", "0.1_"+e.String()).Encode(), ann.Token, nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
}

// Words asked together (migration 0012): when the planner expects them in
// few messages of the month, in every conversation, a month is read by
// asking the index for the words alone and dropping the rows of other
// conversations; when it expects many, by asking for words and
// conversations; when it expected few but the words come together far
// more often (its estimate takes them as independent), the read stops at
// four times the expected and the month is read the second way. Which
// way ran shows in the search index's entries read in the transaction:
// the first way reads every conversation's matches. Each way finds the
// same messages.
func TestSearchWordsAskedTogether(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ctx := context.Background()
	ann := convtest.NewUser(t, s, "ann")
	bob := convtest.NewUser(t, s, "bob")
	mine := convtest.Create(t, s, ann, "group", "mine")
	for _, name := range []string{"two", "three", "four"} {
		convtest.Create(t, s, ann, "group", name)
	}
	theirs := convtest.Create(t, s, bob, "group", "theirs")
	// 1,000 messages this month: "alpha beta" 100 times, "gamma delta"
	// 896, "tuesday lunch" twice in ann's conversation and twice in bob's.
	_, err := s.Deps.DB.Exec(ctx, `INSERT INTO messages (id, conversation_id, user_id, body, created_at)
SELECT $1::bigint + k, CASE WHEN k > 998 THEN $3::bigint ELSE $2::bigint END, CASE WHEN k > 998 THEN $5::bigint ELSE $4::bigint END,
       CASE WHEN k <= 100 THEN 'alpha beta' WHEN k <= 996 THEN 'gamma delta' ELSE 'tuesday lunch' END, now()
  FROM generate_series(1, 1000) k`, int64(id.Floor(time.Now().Add(-time.Hour))), int64(mine.ID), int64(theirs.ID), int64(ann.ID), int64(bob.ID))
	require.NoError(t, err)
	_, err = s.Deps.DB.Exec(ctx, `ANALYZE messages`)
	require.NoError(t, err)

	var month string
	require.NoError(t, s.Deps.DB.QueryRow(ctx, `SELECT i.indexrelid::regclass::text FROM pg_index i
 WHERE i.indrelid = (SELECT tableoid FROM messages LIMIT 1) AND pg_get_indexdef(i.indexrelid) LIKE '%gin%'`).Scan(&month))
	// read searches words as ann (her four conversations) and returns how
	// many messages it found, the planner's estimate for the month and
	// how many entries the month's search index returned.
	read := func(words ...string) (found int, estimate float64, entries int64) {
		no := make([]bool, len(words))
		tx, err := s.Deps.DB.Begin(ctx)
		require.NoError(t, err)
		defer func() { require.NoError(t, tx.Rollback(ctx)) }()
		require.NoError(t, tx.QueryRow(ctx, `SELECT chatterly_search_matches(chatterly_search_index_query($1, $2, $2), 0, 9223372036854775807)`,
			words, no).Scan(&estimate))
		// The counter is of the connection's stats not yet reported, which
		// are reported only between transactions: the difference within
		// one is this search's.
		var before int64
		require.NoError(t, tx.QueryRow(ctx, `SELECT pg_stat_get_xact_tuples_returned($1::regclass)`, month).Scan(&before))
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM chatterly_search_recent(
  chatterly_search_query($1, $2, $2), chatterly_search_index_query($1, $2, $2),
  ARRAY(SELECT conversation_id FROM memberships WHERE user_id = $3), 0, 9223372036854775807, 0, 500)`,
			words, no, int64(ann.ID)).Scan(&found))
		require.NoError(t, tx.QueryRow(ctx, `SELECT pg_stat_get_xact_tuples_returned($1::regclass)`, month).Scan(&entries))
		return found, estimate, entries - before
	}
	// Rare: the words alone, every conversation's matches read.
	found, estimate, entries := read("tuesday", "lunch")
	require.Equal(t, 2, found)
	require.LessOrEqual(t, estimate, 20.0, "4 conversations, at most 5 each")
	require.EqualValues(t, 4, entries, "the index was asked for the words alone")
	// Common: words and conversations, no estimate of 0.5 % (there are
	// statistics on the index's expression).
	found, estimate, entries = read("gamma", "delta")
	require.Equal(t, 500, found, "the newest 500 of 896")
	require.Greater(t, estimate, 500.0)
	require.EqualValues(t, 896, entries, "the index was asked once, for words and conversations")
	// Estimated at 10 (a tenth times a tenth of 1,000), found in 100: the
	// read of the words alone stops, the month is read again.
	found, estimate, entries = read("alpha", "beta")
	require.Equal(t, 100, found)
	require.InDelta(t, 10, estimate, 5)
	require.EqualValues(t, 200, entries, "the index was asked for the words alone, then with the conversations")

	// Through the API, as ann: her two, never bob's.
	p := find(t, s, ann, q("tuesday lunch"))
	require.Len(t, p.Items, 2)
	for _, h := range p.Items {
		require.Equal(t, mine.ID, h.ConversationID)
	}
}
