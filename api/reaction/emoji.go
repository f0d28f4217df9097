package reaction

import (
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
)

// An emoji is either one Unicode emoji (a single emoji, possibly a ZWJ
// sequence, a flag, a keycap, with skin tone and presentation selectors) or
// a short name such as ":party_parrot:" of at most 64 characters, for custom
// emoji the client draws itself.
const (
	maxShortName  = 64 // bytes, colons included
	maxEmojiBytes = 64
	maxEmojiRunes = 16
)

var errEmoji = fault.Invalid("emoji", `emoji must be one Unicode emoji or a :short_name: of at most 64 characters (a-z, 0-9, _ + -)`)

// CheckEmoji accepts an emoji as reactions store it.
func CheckEmoji(s string) error {
	if len(s) >= 3 && s[0] == ':' && s[len(s)-1] == ':' {
		if len(s) > maxShortName {
			return errEmoji
		}
		for i := 1; i < len(s)-1; i++ {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '+' || c == '-') {
				return errEmoji
			}
		}
		return nil
	}
	if s == "" || len(s) > maxEmojiBytes || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxEmojiRunes {
		return errEmoji
	}
	if !oneEmoji([]rune(s)) {
		return errEmoji
	}
	return nil
}

const (
	zwj       = 0x200D
	vs15      = 0xFE0E
	vs16      = 0xFE0F
	keycap    = 0x20E3
	blackFlag = 0x1F3F4
	tagEnd    = 0xE007F
)

// oneEmoji parses rs as: element (ZWJ element)*, where an element is a flag
// (two regional indicators, or the black flag and a tag sequence), a keycap
// ([#*0-9], VS16?, U+20E3) or a pictograph with selectors and skin tones.
func oneEmoji(rs []rune) bool {
	i := 0
	for {
		n := element(rs[i:])
		if n == 0 {
			return false
		}
		i += n
		if i == len(rs) {
			return true
		}
		if rs[i] != zwj || i+1 == len(rs) {
			return false
		}
		i++
	}
}

// element returns how many runes of rs one element takes (0: none).
func element(rs []rune) int {
	if len(rs) == 0 {
		return 0
	}
	r := rs[0]
	switch {
	case regional(r):
		if len(rs) >= 2 && regional(rs[1]) {
			return 2
		}
		return 0
	case r == '#' || r == '*' || r >= '0' && r <= '9':
		i := 1
		if i < len(rs) && rs[i] == vs16 {
			i++
		}
		if i < len(rs) && rs[i] == keycap {
			return i + 1
		}
		return 0
	case r == blackFlag && len(rs) > 1 && tag(rs[1]):
		for i := 1; i < len(rs); i++ {
			if rs[i] == tagEnd {
				return i + 1
			}
			if !tag(rs[i]) {
				return 0
			}
		}
		return 0
	case pictograph(r):
		i := 1
		for i < len(rs) && (rs[i] == vs15 || rs[i] == vs16 || skinTone(rs[i])) {
			i++
		}
		return i
	}
	return 0
}

func regional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }
func skinTone(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }
func tag(r rune) bool      { return r >= 0xE0020 && r <= 0xE007F }

// pictograph covers the blocks that hold emoji (Extended_Pictographic and
// the older symbols with emoji presentation), not letters or digits.
func pictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF:
		return !regional(r) && !skinTone(r)
	case r >= 0x2600 && r <= 0x27BF, // miscellaneous symbols, dingbats
		r >= 0x2300 && r <= 0x23FF, // technical: watch, hourglass, keyboard
		r >= 0x2B00 && r <= 0x2BFF, // stars, squares, circles
		r >= 0x2190 && r <= 0x21FF, // arrows
		r >= 0x2900 && r <= 0x297F, // supplemental arrows
		r >= 0x25A0 && r <= 0x25FF: // geometric shapes
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}
