package message

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chatterly/chatterly/shared/id"
)

// Page is a timeline or thread page rendered for one reader: each item is
// a message's JSON as that reader sees it. Items are often slices of a
// cached string: a page must not outlive its request's use of them
// (appending them to the answer is that use).
type Page struct {
	Items []string
	// Next is the cursor of the next page (the last item's id); nil when
	// there is none.
	Next *string
}

// AppendJSON appends the page as the API answers it:
// {"items":[...],"next_cursor":"<id>"|null}. The items are JSON already
// and are copied as they are, never scanned again.
func (p Page) AppendJSON(b []byte) []byte {
	b = append(b, `{"items":[`...)
	for i, it := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	b = append(b, `],"next_cursor":`...)
	if p.Next == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, *p.Next) // digits only
	}
	return append(b, '}')
}

// renderPage is the page of at most limit of ms (read with one more, which
// says whether another page exists) for reader.
func renderPage(reader id.ID, ms []Message, limit int) (Page, error) {
	var p Page
	if len(ms) > limit {
		ms = ms[:limit]
		n := ms[limit-1].ID.String()
		p.Next = &n
	}
	p.Items = make([]string, len(ms))
	for i, m := range ms {
		b, err := json.Marshal(For(m, reader))
		if err != nil {
			return Page{}, err
		}
		p.Items[i] = string(b)
	}
	return p, nil
}

// The newest page's cache entry. It is read on every timeline open, so it
// holds what a reader is sent, not what it is made from: one line per
// message, newest first, "<id> <json>", where json is the message as every
// reader sees it (a JSON object, starting with '{'), or, for a message
// with reactions (whose `me` differs per reader), 'r' and the message in
// the cache's form (Message's JSON), rendered per reader on each read.
// Compact JSON never holds a raw newline, so the lines cannot be confused.
// A read of a page without reactions is then copying bytes: no decoding,
// no encoding.

// personalMark starts the line of a message rendered per reader.
const personalMark = 'r'

// encodePage is the cached newest page of ms (newest first).
func encodePage(ms []Message) ([]byte, error) {
	var b []byte
	for i, m := range ms {
		if i > 0 {
			b = append(b, '\n')
		}
		b = strconv.AppendInt(b, int64(m.ID), 10)
		b = append(b, ' ')
		var v []byte
		var err error
		if personal := !m.Deleted() && len(m.Reactions) > 0; personal {
			b = append(b, personalMark)
			v, err = json.Marshal(m)
		} else {
			v, err = json.Marshal(Event(m))
		}
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return b, nil
}

// decodePage is the page of at most limit messages of the cached entry v
// for reader. Items of messages without reactions are slices of v.
func decodePage(v string, reader id.ID, limit int) (Page, error) {
	p := Page{Items: make([]string, 0, min(limit, pageSize))}
	var last string // the id of the last item
	for v != "" {
		var line string
		line, v = firstItem(v, '\n')
		mid, item, ok := strings.Cut(line, " ")
		if !ok || item == "" || (item[0] != '{' && item[0] != personalMark) {
			return Page{}, fmt.Errorf("message: bad cached page line %q", line)
		}
		if len(p.Items) == limit {
			// One more exists: the last item's id is the cursor.
			p.Next = &last
			break
		}
		if item[0] == personalMark {
			var m Message
			if err := json.Unmarshal([]byte(item[1:]), &m); err != nil {
				return Page{}, fmt.Errorf("message: decode cached page: %w", err)
			}
			b, err := json.Marshal(For(m, reader))
			if err != nil {
				return Page{}, err
			}
			item = string(b)
		}
		p.Items = append(p.Items, item)
		last = mid
	}
	return p, nil
}
