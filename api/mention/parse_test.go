package mention

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want Parsed
	}{
		{"no mention here", Parsed{}},
		{"@ann", Parsed{Names: []string{"ann"}}},
		{"hi @Ann, and @bob.smith.", Parsed{Names: []string{"ann", "bob.smith"}}},
		{"@ann @ANN @ann", Parsed{Names: []string{"ann"}}},
		{"mail ann@example.com", Parsed{}},
		{"@channel look @here", Parsed{Channel: true, Here: true}},
		{"(@carl) [@dan]", Parsed{Names: []string{"carl", "dan"}}},
		{"@ab is too short, @" + strings.Repeat("x", 33) + " too long", Parsed{}},
		{"@ @@ @. @...", Parsed{}},
		{"a@@ann", Parsed{Names: []string{"ann"}}},
		{"@ann’s", Parsed{Names: []string{"ann"}}},
	} {
		got := Parse(tc.body)
		require.Equal(t, tc.want, got, "%q", tc.body)
	}
	var many []string
	for i := range MaxNames + 10 {
		many = append(many, "@user"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	require.Len(t, Parse(strings.Join(many, " ")).Names, MaxNames)
}

func TestParseOfABodyWithoutMentionsAllocatesNothing(t *testing.T) {
	body := "a message from bench client 7, long enough to be a real one"
	if n := testing.AllocsPerRun(100, func() { _ = Parse(body) }); n != 0 {
		t.Fatalf("Parse allocated %v times", n)
	}
}

// FuzzParse: whatever the body, every name is a username's shape, lower
// case, distinct, and found in the body after an @.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"@ann", "hi @Ann, @channel", "a@b.c", "@@here.", "@" + strings.Repeat("a", 40), "é@ann"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p := Parse(body)
		seen := map[string]bool{}
		lower := strings.ToLower(body)
		for _, n := range p.Names {
			if len(n) < 3 || len(n) > 32 || seen[n] || !strings.Contains(lower, "@"+n) {
				t.Fatalf("bad name %q from %q", n, body)
			}
			for i := 0; i < len(n); i++ {
				if !nameChar(n[i]) || (n[i] >= 'A' && n[i] <= 'Z') {
					t.Fatalf("bad name %q from %q", n, body)
				}
			}
			seen[n] = true
		}
		if len(p.Names) > MaxNames {
			t.Fatalf("%d names", len(p.Names))
		}
	})
}
