package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MessagePlan is the message-search world: Messages spread evenly over
// Conversations (of Authors people each) and over the last Months, with
// bodies of words drawn from a Zipf vocabulary; Searchers people each a
// member of PerSearcher of the conversations (disjoint sets).
type MessagePlan struct {
	Messages      int
	Conversations int
	Users         int
	Authors       int
	Searchers     int
	PerSearcher   int
	Months        int
	// Vocabulary is how many distinct words bodies use.
	Vocabulary int
}

// SearchWorld is what the search seed made, as the scenario needs it.
type SearchWorld struct {
	// Searchers are user ids of the people who search, and Users every
	// user (index i is user ids[i]).
	Searchers []id.ID
	// Words is the vocabulary, most frequent first (Zipf rank order).
	Words []string
}

// Fingerprint names the seed: the plan, the vocabulary's generator and
// the schema's fingerprint; a cached database with another is reseeded.
func (p MessagePlan) Fingerprint(schema string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("v1 %+v %s", p, schema)))
	return hex.EncodeToString(h[:8])
}

// vocabulary makes n distinct made-up words, deterministically: syllables,
// some with an English suffix (so stemming has work to do).
func vocabulary(n int) []string {
	syl := strings.Fields("ka lo mi ren tas vu pel dor an is or un bel cor fi gan hu jor lem nas pur quin ros sil tev wim xan yor zel")
	suf := []string{"", "", "", "s", "ing", "ed", "er", "ly"}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		for k := 2 + r.IntN(2); k > 0; k-- {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		b.WriteString(suf[r.IntN(len(suf))])
		w := b.String()
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// SearchPlanWorld is the world of plan without touching a database: the
// ids are derived from the plan (user i is id base+i), so a cached
// database and a later run agree.
func SearchPlanWorld(p MessagePlan) *SearchWorld {
	w := &SearchWorld{Words: vocabulary(p.Vocabulary)}
	for i := 0; i < p.Searchers; i++ {
		w.Searchers = append(w.Searchers, userID(i))
	}
	return w
}

// Seeded ids: small, fixed, far below any generated id (those carry the
// time bits), so the cached database is the same on every run.
func userID(i int) id.ID { return id.ID(1_000_000 + i) }
func convID(i int) id.ID { return id.ID(2_000_000 + i) }

// members are the user indexes of conversation c: Authors consecutive
// users, plus the searcher whose set holds c.
func (p MessagePlan) members(c int) []int {
	out := make([]int, 0, p.Authors+1)
	for j := 0; j < p.Authors; j++ {
		out = append(out, p.Searchers+(c*p.Authors+j)%(p.Users-p.Searchers))
	}
	if s := c / p.PerSearcher; s < p.Searchers {
		out = append(out, s)
	}
	return out
}

// SeedMessages writes plan into the empty, migrated database db: users,
// conversations, memberships, then the messages by COPY, several months
// at once, with foreign-key triggers off (every row it writes refers to
// rows it wrote first) and the search index dropped during the load and
// built once after it. logf reports progress.
func SeedMessages(ctx context.Context, db *pgxpool.Pool, p MessagePlan, logf func(string, ...any)) error {
	if p.Searchers*p.PerSearcher > p.Conversations || p.Users <= p.Searchers+p.Authors {
		return errors.New("seed: search plan does not fit")
	}
	now := time.Now().UTC()
	start := now.AddDate(0, -p.Months, 0)
	if _, err := db.Exec(ctx, `SELECT chatterly_ensure_partitions('messages', $1, $2)`, start, p.Months+2); err != nil {
		return fmt.Errorf("seed: partitions: %w", err)
	}
	indexDef, err := SearchIndexDef(ctx, db)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `DROP INDEX messages_search`); err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var users, convs, members [][]any
		for i := 0; i < p.Users; i++ {
			users = append(users, []any{int64(userID(i)), fmt.Sprintf("search%d@bench.invalid", i),
				fmt.Sprintf("search%d", i), fmt.Sprintf("Search User %d", i), "!seeded"})
		}
		for c := 0; c < p.Conversations; c++ {
			ms := p.members(c)
			convs = append(convs, []any{int64(convID(c)), "group", fmt.Sprintf("search %d", c), int64(userID(ms[0])), now})
			for j, u := range ms {
				role := "member"
				if j == 0 {
					role = "owner"
				}
				members = append(members, []any{int64(convID(c)), int64(userID(u)), role})
			}
		}
		if err := copyRows(ctx, tx, "users", []string{"id", "email", "username", "display_name", "password_hash"}, users); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "conversations", []string{"id", "kind", "name", "created_by", "last_activity_at"}, convs); err != nil {
			return err
		}
		return copyRows(ctx, tx, "memberships", []string{"conversation_id", "user_id", "role"}, members)
	})
	if err != nil {
		return err
	}
	words := vocabulary(p.Vocabulary)
	// Two loaders (the machine's cores), each its months.
	perMonth := p.Messages / p.Months
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := w; m < p.Months && errs[w] == nil; m += 2 {
				t0 := time.Now()
				lo := start.AddDate(0, m, 0)
				errs[w] = copyMonth(ctx, db, p, words, m, lo, lo.AddDate(0, 1, 0), perMonth)
				logf("search seed: month %d of %d: %d messages in %s", m+1, p.Months, perMonth, time.Since(t0).Round(time.Second))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t0 := time.Now()
	if err := buildSearchIndex(ctx, db, indexDef); err != nil {
		return fmt.Errorf("seed: build search index: %w", err)
	}
	logf("search seed: index built in %s", time.Since(t0).Round(time.Second))
	t0 = time.Now()
	if _, err := db.Exec(ctx, `VACUUM (ANALYZE) messages`); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `ANALYZE`); err != nil {
		return err
	}
	logf("search seed: vacuum and analyze in %s", time.Since(t0).Round(time.Second))
	return nil
}

// buildSearchIndex makes messages_search (def, as SearchIndexDef gives
// it) on the parent alone, then its part on each partition,
// two at a time (the machine's cores; one CREATE INDEX on the parent
// builds them one after another), attaching each.
func buildSearchIndex(ctx context.Context, db *pgxpool.Pool, def string) error {
	head, rest, ok := strings.Cut(def, " ON public.messages ")
	if !ok {
		return fmt.Errorf("unexpected index definition %q", def)
	}
	if _, err := db.Exec(ctx, head+" ON ONLY public.messages "+rest); err != nil {
		return err
	}
	var parts []string
	rows, err := db.Query(ctx, `SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'messages'::regclass ORDER BY 1`)
	if err != nil {
		return err
	}
	if parts, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	next := make(chan string)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for part := range next {
				if errs[w] != nil {
					continue
				}
				name := part + "_search"
				_, errs[w] = db.Exec(ctx, "CREATE INDEX "+name+" ON public."+part+" "+rest+"; ALTER INDEX messages_search ATTACH PARTITION "+name)
			}
		}()
	}
	for _, part := range parts {
		next <- part
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// SearchIndexDef is the statement that makes messages_search on messages
// and every partition (pg_get_indexdef of a partitioned index says ON
// ONLY, which would make it on the parent alone).
func SearchIndexDef(ctx context.Context, db *pgxpool.Pool) (string, error) {
	var def string
	if err := db.QueryRow(ctx, `SELECT pg_get_indexdef('messages_search'::regclass)`).Scan(&def); err != nil {
		return "", fmt.Errorf("seed: read search index: %w", err)
	}
	return strings.Replace(def, " ON ONLY ", " ON ", 1), nil
}

// SearchIndexComplete reports whether every partition of messages has
// its valid part of messages_search.
func SearchIndexComplete(ctx context.Context, db *pgxpool.Pool) (bool, error) {
	var missing int
	err := db.QueryRow(ctx, `SELECT count(*) FROM pg_inherits h
 WHERE h.inhparent = 'messages'::regclass AND NOT EXISTS (
   SELECT 1 FROM pg_index i JOIN pg_inherits ih ON ih.inhrelid = i.indexrelid
    WHERE i.indrelid = h.inhrelid AND ih.inhparent = 'messages_search'::regclass AND i.indisvalid)`).Scan(&missing)
	return missing == 0, err
}

// RebuildSearchIndex makes messages_search again, on every partition
// (two at a time, as the seed does).
func RebuildSearchIndex(ctx context.Context, db *pgxpool.Pool) error {
	def, err := SearchIndexDef(ctx, db)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `DROP INDEX messages_search`); err != nil {
		return err
	}
	return buildSearchIndex(ctx, db, def)
}

// copyMonth writes n messages sent in [lo, hi) into random conversations.
func copyMonth(ctx context.Context, db *pgxpool.Pool, p MessagePlan, words []string, m int, lo, hi time.Time, n int) error {
	conn, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// Every row refers to users and conversations written above.
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(m)+7, 11))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(uint64(m)+13, 17)), 1.07, 2, uint64(len(words)-1))
	span := hi.Sub(lo)
	// Sent times in order, so the rows land in id order.
	times := make([]time.Time, n)
	for i := range times {
		times[i] = lo.Add(time.Duration(r.Int64N(int64(span))))
	}
	sortTimes(times)
	i := 0
	var b strings.Builder
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		t := times[i]
		c := r.IntN(p.Conversations)
		ms := p.members(c)
		author := ms[r.IntN(len(ms))]
		b.Reset()
		for k := 6 + r.IntN(14); k > 0; k-- {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[zipf.Uint64()])
		}
		// Low bits: the row's index in its month, unique within a ms.
		mid := int64(id.Floor(t)) | int64(i&(1<<22-1))
		i++
		return []any{mid, int64(convID(c)), int64(userID(author)), b.String(), t}, nil
	})
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"messages"}, []string{"id", "conversation_id", "user_id", "body", "created_at"}, src)
	if err != nil {
		return fmt.Errorf("seed: copy messages of month %d: %w", m, err)
	}
	_, err = conn.Exec(ctx, `RESET session_replication_role`)
	return err
}

func sortTimes(ts []time.Time) {
	// A month's times, as Unix nanoseconds, sorted.
	ns := make([]int64, len(ts))
	for i, t := range ts {
		ns[i] = t.UnixNano()
	}
	slices.Sort(ns)
	for i, v := range ns {
		ts[i] = time.Unix(0, v).UTC()
	}
}

// SearchTokens gives each searcher a new session in db and an access token
// signed with the stack's key (keyDir), valid for ttl.
func SearchTokens(ctx context.Context, db *pgxpool.Pool, keyDir string, users []id.ID, ttl time.Duration) ([]string, error) {
	priv, err := token.LoadSigningKey(keyDir, false)
	if err != nil {
		return nil, err
	}
	iss, err := token.NewIssuer(priv, ttl)
	if err != nil {
		return nil, err
	}
	ids, err := id.NewGenerator(Node)
	if err != nil {
		return nil, err
	}
	until := time.Now().Add(ttl)
	toks := make([]string, len(users))
	for i, u := range users {
		sid := ids.Next()
		if _, err := db.Exec(ctx, `INSERT INTO auth_sessions (id, user_id, expires_at, access_until) VALUES ($1, $2, $3, $4)`,
			int64(sid), int64(u), until.Add(24*time.Hour), until); err != nil {
			return nil, fmt.Errorf("seed: search session: %w", err)
		}
		if toks[i], _, err = iss.Issue(u, sid); err != nil {
			return nil, err
		}
	}
	return toks, nil
}
