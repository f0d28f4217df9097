package reaction

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckEmoji(t *testing.T) {
	t.Parallel()
	good := []string{
		"👍", "👍🏽", "❤\ufe0f", "❤", "🎉", "🇫🇷", "#\ufe0f\u20e3", "1\ufe0f\u20e3", "5\u20e3", "👩\u200d💻", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈",
		"🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "©\ufe0f", "⭐", "☕", ":thumbsup:", ":party-parrot:", ":+1:", ":a:",
		":" + strings.Repeat("x", 62) + ":",
	}
	for _, e := range good {
		require.NoError(t, CheckEmoji(e), "%q", e)
	}
	bad := []string{
		"", "a", "ab", "👍👍", "👍 ", " 👍", "🇫", "\u200d👍", "👍\u200d", "1", "#", "::", ":Thumbs:", ":a b:",
		":" + strings.Repeat("x", 63) + ":", "thumbsup", "😀x", "\x00", "\xff", "🏽",
		strings.Repeat("👩\u200d", 8) + "💻",
	}
	for _, e := range bad {
		require.Error(t, CheckEmoji(e), "%q", e)
	}
}

func FuzzCheckEmoji(f *testing.F) {
	for _, s := range []string{"👍🏽", "👨\u200d👩\u200d👧\u200d👦", "#\ufe0f\u20e3", "🇫🇷", ":ok:", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "\xf0\x9f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckEmoji(s) == nil && (len(s) > maxShortName || s == "") {
			t.Fatalf("accepted %q", s)
		}
	})
}
