package cable

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// errSyntax is the one error of the small JSON scanner below; callers wrap
// it into ErrMalformed.
var errSyntax = errors.New("cable: JSON syntax")

// The commands the edge reads are tiny JSON objects whose interesting
// members are strings; a full decoder would allocate a map or copy every
// string. This scanner walks the bytes once, returns string literals as
// sub-slices of the input (quotes included) and skips anything else.

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the end (one past the closing quote) of the string
// literal starting at b[i] == '"', and whether it holds any escape. It
// rejects control characters and malformed escapes, as JSON does.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, errSyntax
	}
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return 0, false, errSyntax
				}
				for _, h := range b[i+2 : i+6] {
					if hexVal(h) < 0 {
						return 0, false, errSyntax
					}
				}
				i += 6
			default:
				return 0, false, errSyntax
			}
		case c < 0x20:
			return 0, false, errSyntax
		default:
			i++
		}
	}
	return 0, false, errSyntax
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unquote returns the content of a string literal that scanString
// accepted. Without escapes it is a sub-slice of lit; otherwise it is
// decoded into a new slice. Lone surrogates become U+FFFD, as
// encoding/json does; other bytes are kept as they are.
func unquote(lit []byte, escaped bool) []byte {
	body := lit[1 : len(lit)-1]
	if !escaped {
		return body
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch body[i+1] {
		case '"', '\\', '/':
			out = append(out, body[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(body[i+2:]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(body[i+2:]))); r2 != utf8.RuneError {
						out = utf8.AppendRune(out, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		i += 2
	}
	return out
}

func hex4(b []byte) int {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// skipValue returns the end of the JSON value starting at b[i], checking
// its syntax loosely (numbers and literals by their characters only).
// depth bounds nesting so a hostile command cannot recurse deeply.
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > 32 {
		return 0, errSyntax
	}
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			if c == '{' {
				end, _, err := scanString(b, skipSpace(b, i))
				if err != nil {
					return 0, err
				}
				i = skipSpace(b, end)
				if i >= len(b) || b[i] != ':' {
					return 0, errSyntax
				}
				i++
			}
			end, err := skipValue(b, i, depth+1)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return 0, errSyntax
			}
			if b[i] == closer {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, errSyntax
			}
			i++
		}
	default:
		start := i
		for i < len(b) {
			switch b[i] {
			case '-', '+', '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
				't', 'r', 'u', 'f', 'a', 'l', 's', 'n':
				i++
				continue
			}
			break
		}
		if i == start {
			return 0, errSyntax
		}
		return i, nil
	}
}
