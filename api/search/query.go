package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
)

// Query syntax, as a web search box reads it:
//
//	word       messages with the word (stemmed: "runs" finds "running")
//	"a b c"    the words as written, in that order, next to each other
//	word*      words as written starting with "word"
//	-word      messages without the word (also -"a phrase")
//
// Terms are ANDed. Postgres turns each term into lexemes: what a message
// must match (chatterly_search_query) and what its index is asked
// (chatterly_search_index_query); this file only splits the query into
// terms.

// Limits of a query.
const (
	maxQuery = 500 // characters
	maxTerms = 32
)

// term is one word, phrase or prefix of a query.
type term struct {
	Text    string
	Prefix  bool
	Negated bool
}

// parse splits q into its terms. An empty query, one too long, one of only
// exclusions (which no index can find) or of invalid text is a
// validation fault on "query".
func parse(q string) ([]term, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, fault.Invalid("query", "query is required")
	}
	if utf8.RuneCountInString(q) > maxQuery {
		return nil, fault.Invalid("query", "query has at most 500 characters")
	}
	var terms []term
	positive := false
	rest := q
	for rest != "" {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		t := term{}
		if strings.HasPrefix(rest, "-") {
			t.Negated = true
			rest = rest[1:]
		}
		if strings.HasPrefix(rest, `"`) {
			// A phrase runs to the closing quote (or to the end).
			body, after, _ := strings.Cut(rest[1:], `"`)
			t.Text, rest = strings.TrimSpace(body), after
		} else {
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			t.Text, rest = rest[:end], rest[end:]
			if w := strings.TrimRight(t.Text, "*"); w != t.Text {
				// A prefix is one word of letters and digits: what
				// to_tsquery's ':*' completes.
				t.Text, t.Prefix = lettersAndDigits(w), true
			}
		}
		if t.Text == "" {
			continue
		}
		if len(terms) == maxTerms {
			return nil, fault.Invalid("query", "query has at most 32 words or phrases")
		}
		terms = append(terms, t)
		positive = positive || !t.Negated
	}
	if !positive {
		return nil, fault.Invalid("query", "query needs a word to find, not only words to leave out")
	}
	return terms, nil
}

// lettersAndDigits keeps the letters and digits of w.
func lettersAndDigits(w string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, w)
}

// columns are the terms as the arrays chatterly_search_query takes.
func columns(terms []term) (texts []string, prefix, negated []bool) {
	for _, t := range terms {
		texts = append(texts, t.Text)
		prefix = append(prefix, t.Prefix)
		negated = append(negated, t.Negated)
	}
	return texts, prefix, negated
}
