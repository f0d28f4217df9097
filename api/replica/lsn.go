package replica

import (
	"fmt"
	"strconv"
	"strings"
)

// lsn is a position in the WAL (pg_lsn), as one number: Postgres writes
// it as two hex halves, "16/B374D848".
type lsn uint64

// parseLSN reads Postgres's text form of a pg_lsn.
func parseLSN(s string) (lsn, error) {
	hi, lo, ok := strings.Cut(s, "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, fmt.Errorf("replica: bad WAL position %q", s)
	}
	return lsn(h<<32 | l), nil
}

// mark is the position as a writer's mark in Redis: 16 hex digits, so
// that comparing two marks as strings (as the mark script does) orders
// them as positions.
func (l lsn) mark() string { return fmt.Sprintf("%016X", uint64(l)) }

// parseMark reads a mark back.
func parseMark(s string) (lsn, error) {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || len(s) != 16 {
		return 0, fmt.Errorf("replica: bad mark %q", s)
	}
	return lsn(v), nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
