package search

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	got, err := parse(`  deploy "the who"  runn*  -legacy -"old plan" fo-o*** "unclosed phrase`)
	require.NoError(t, err)
	require.Equal(t, []term{
		{Text: "deploy"},
		{Text: "the who"},
		{Text: "runn", Prefix: true},
		{Text: "legacy", Negated: true},
		{Text: "old plan", Negated: true},
		{Text: "foo", Prefix: true},
		{Text: "unclosed phrase"},
	}, got)

	got, err = parse(`* - "" word`)
	require.NoError(t, err)
	require.Equal(t, []term{{Text: "word"}}, got, "empty terms are dropped")

	for _, bad := range []string{"", "   ", "-a -b", `-"x y"`, "* -"} {
		_, err := parse(bad)
		require.Error(t, err, "%q", bad)
	}
}

func TestSegments(t *testing.T) {
	require.Equal(t, []Segment{{Text: "a "}, {Text: "b", Match: true}, {Text: " c "}, {Text: "d e", Match: true}},
		segments("a \x02b\x03 c \x02d\x03\x02 e\x03"))
	require.Equal(t, []Segment{}, segments(""))
	require.Equal(t, []Segment{{Text: "x", Match: true}}, segments("\x02x"))
}

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []cursor{
		{Batch: batch{Top: math.MaxInt64}, Rank: 0.0607927, ID: 1},
		{Batch: batch{Top: 900, Low: 100}, Rank: 1e-20, ID: math.MaxInt64},
		{Batch: batch{Top: 43}, Rank: 0, ID: 42},
	} {
		got, err := parseCursor(c.String())
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
	// The old shape (rank_id), and batches that cannot be: no top, low at
	// or above top, negative ends.
	for _, bad := range []string{"x", "1_", "_1", "-1_2", "Inf_2", "NaN_2", "0.1_x", "0.1_2", "0.1_2_0_0",
		"0.1_2_5_5", "0.1_2_5_9", "0.1_2_5_-1", "0.1_2_x_1", "0.1_2_5_1_7"} {
		_, err := parseCursor(bad)
		require.Error(t, err, bad)
	}
}
