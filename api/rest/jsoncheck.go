package rest

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
)

// checkJSON walks a request body before it is decoded and refuses what
// encoding/json would let through silently:
//
//   - a string (key or value) holding invalid UTF-8, a lone surrogate
//     escape (both become U+FFFD) or NUL ("\u0000"), which Postgres text
//     cannot hold;
//   - an object giving one key twice (the decoder keeps the last), also
//     under another case ("body" and "Body" fill the same field).
//
// The error names the field by its path ("member_ids[2]", "a.b"). A body
// that is not JSON at all passes: the decoder reports its syntax error.
func checkJSON(b []byte) *fault.Error {
	s := jsonCheck{b: b}
	s.value("", 0)
	return s.err
}

// maxJSONDepth matches encoding/json's nesting limit; deeper is left to it.
const maxJSONDepth = 10000

type jsonCheck struct {
	b   []byte
	i   int
	err *fault.Error
	// bad is set when the body is not JSON: the walk stops, the decoder
	// will say why.
	bad bool
}

func (s *jsonCheck) stopped() bool { return s.err != nil || s.bad }

func (s *jsonCheck) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonCheck) value(path string, depth int) {
	s.ws()
	if s.i >= len(s.b) || depth > maxJSONDepth {
		s.bad = true
		return
	}
	switch s.b[s.i] {
	case '{':
		s.object(path, depth)
	case '[':
		s.array(path, depth)
	case '"':
		if _, ok := s.str(false); !ok && !s.bad {
			s.err = notText("field", fieldName(path))
		}
	default: // number, true, false, null: the decoder checks them
		for s.i < len(s.b) && !strings.ContainsRune(",]} \t\n\r", rune(s.b[s.i])) {
			s.i++
		}
	}
}

func (s *jsonCheck) object(path string, depth int) {
	s.i++ // {
	var keys []string
	for !s.stopped() {
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return
		}
		if len(keys) > 0 {
			if s.i >= len(s.b) || s.b[s.i] != ',' {
				s.bad = true
				return
			}
			s.i++
			s.ws()
		}
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.bad = true
			return
		}
		key, ok := s.str(true)
		if s.bad {
			return
		}
		field := join(path, key)
		if !ok {
			s.err = notText("field", fieldName(field))
			return
		}
		for _, k := range keys {
			if strings.EqualFold(k, key) {
				s.err = &fault.Error{Code: fault.BadRequest, Field: field,
					Message: "field " + strconv.Quote(field) + " is given more than once"}
				return
			}
		}
		keys = append(keys, key)
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			s.bad = true
			return
		}
		s.i++
		s.value(field, depth+1)
	}
}

func (s *jsonCheck) array(path string, depth int) {
	s.i++ // [
	for n := 0; !s.stopped(); n++ {
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return
		}
		if n > 0 {
			if s.i >= len(s.b) || s.b[s.i] != ',' {
				s.bad = true
				return
			}
			s.i++
		}
		s.value(path+"["+strconv.Itoa(n)+"]", depth+1)
	}
}

// str reads the string literal at s.i. It returns the decoded text when
// keep is set (object keys, compared for duplicates), and false when the
// literal is JSON but not text. A literal that is not JSON sets s.bad.
func (s *jsonCheck) str(keep bool) (string, bool) {
	s.i++ // "
	var out []byte
	ok := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), ok
		case c == 0: // not JSON either, but said as plainly as the escape
			s.i++
			ok = false
		case c < 0x20:
			s.bad = true
			return "", false
		case c == '\\':
			r, n := s.escape()
			if n == 0 {
				s.bad = true
				return "", false
			}
			s.i += n
			if r == 0 || r == utf8.RuneError {
				ok = false
			}
			if keep {
				out = utf8.AppendRune(out, r)
			}
		case c < utf8.RuneSelf:
			s.i++
			if keep {
				out = append(out, c)
			}
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				ok = false
			}
			if keep {
				out = append(out, s.b[s.i:s.i+n]...)
			}
			s.i += n
		}
	}
	s.bad = true
	return "", false
}

// escape decodes the escape at s.i: the rune (RuneError for a lone
// surrogate) and its length in bytes, 0 when it is not a JSON escape.
func (s *jsonCheck) escape() (rune, int) {
	if s.i+1 >= len(s.b) {
		return 0, 0
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return rune(s.b[s.i+1]), 2
	case 'u':
	default:
		return 0, 0
	}
	r, ok := hex4(s.b[s.i+2:])
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r < 0xDC00 && s.i+7 < len(s.b) && s.b[s.i+6] == '\\' && s.b[s.i+7] == 'u' {
		if lo, ok := hex4(s.b[s.i+8:]); ok {
			if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
				return d, 12
			}
		}
	}
	return utf8.RuneError, 6
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v), err == nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldName makes a field path fit to show: what is not text in it is
// dropped.
func fieldName(path string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(path, "\x00", ""), "")
}
