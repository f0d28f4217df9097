package replica

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Positions read from Postgres's text form order as the WAL does, and so
// do their marks compared as strings (the mark script's comparison).
func TestPositionsAndMarksOrderAsTheWAL(t *testing.T) {
	t.Parallel()
	texts := []string{"0/0", "0/16B3748", "0/FFFFFFFF", "1/0", "16/B374D848", "FFFFFFFF/FFFFFFFF"}
	var prev lsn
	var prevMark string
	for i, s := range texts {
		l, err := parseLSN(s)
		require.NoError(t, err, s)
		m := l.mark()
		back, err := parseMark(m)
		require.NoError(t, err)
		require.Equal(t, l, back)
		if i > 0 {
			require.Greater(t, l, prev, s)
			require.Greater(t, m, prevMark, s)
		}
		prev, prevMark = l, m
	}
	for _, bad := range []string{"", "16", "x/1", "1/x", "1/100000000"} {
		_, err := parseLSN(bad)
		require.Error(t, err, bad)
	}
	_, err := parseMark("16B3748")
	require.Error(t, err, "a mark has 16 digits")
}
