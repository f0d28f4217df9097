package rest

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/valyala/fasthttp"
)

// Every string a client sends — path parameters, query parameters, JSON
// strings — is checked here, at the HTTP layer, once for every route,
// before any handler sees it: it must be valid UTF-8 and hold no NUL.
// Postgres text can hold neither, so such a value would otherwise reach a
// query and fail it as a 500. A bad value is refused with 400 bad_request
// naming the parameter; it is never repaired or stripped.

// IsText reports whether s may reach storage as text: valid UTF-8 with no
// NUL character.
func IsText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// notText is the refusal of a value that is not text.
func notText(kind, name string) *fault.Error {
	return &fault.Error{Code: fault.BadRequest, Field: name,
		Message: kind + " " + strconv.Quote(name) + " must be valid UTF-8 text without NUL characters"}
}

// splitPath splits the request's path as it came on the wire into its
// percent-decoded segments. Routing works on these, never on a path decoded
// whole: "/conversations/1%2F.." is the two segments "conversations" and
// "1/..", not a path that dot-segment removal turns into "/conversations".
func splitPath(raw string) ([]string, error) {
	segs := split(raw)
	for i, s := range segs {
		if strings.IndexByte(s, '%') < 0 {
			continue
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, fault.New(fault.BadRequest, "the path is not validly percent-encoded")
		}
		segs[i] = d
	}
	return segs, nil
}

// checkParams refuses a path parameter that is not text. params is the
// route's name, value list.
func checkParams(params []string) error {
	for i := 0; i+1 < len(params); i += 2 {
		if !IsText(params[i+1]) {
			return notText("path parameter", params[i])
		}
	}
	return nil
}

// checkQuery refuses a query string whose parameter names or values are
// not text, or that gives one parameter twice (handlers read the first;
// a proxy in front may read the last).
func checkQuery(args *fasthttp.Args) error {
	// The names seen so far, as slices of the request (valid while it is
	// served): a query has a handful of parameters, so a scan of them
	// costs less than a map, and nothing is allocated unless one is bad.
	var small [8][]byte
	seen := small[:0]
	for k, v := range args.All() {
		switch {
		case !utf8.Valid(k) || bytes.IndexByte(k, 0) >= 0:
			return &fault.Error{Code: fault.BadRequest, Field: fieldName(string(k)),
				Message: "a query parameter's name must be valid UTF-8 text without NUL characters"}
		case !utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0: // IsText, without a copy
			return notText("query parameter", string(k))
		}
		for _, s := range seen {
			if bytes.Equal(s, k) {
				return &fault.Error{Code: fault.BadRequest, Field: string(k),
					Message: "query parameter " + strconv.Quote(string(k)) + " is given more than once"}
			}
		}
		seen = append(seen, k)
	}
	return nil
}
