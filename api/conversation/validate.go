package conversation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
)

// Input rules; the web client's forms mirror them.
const (
	maxName  = 80  // characters, channel and group names
	maxTopic = 250 // characters
	// maxInitialMembers bounds member_ids of a new group: a bigger group
	// is built by adding members.
	maxInitialMembers = 100
)

// channelName lowercases and checks a channel name: 1 to 80 of [a-z0-9-].
func channelName(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if n == "" {
		return "", fault.Invalid("name", "name is required")
	}
	if len(n) > maxName {
		return "", fault.Invalid("name", "a channel name has at most 80 characters")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "", fault.Invalid("name", "a channel name uses only a-z, 0-9 and -")
		}
	}
	return n, nil
}

// groupName trims and checks a group name: 1 to 80 printable characters.
func groupName(s string) (string, error) {
	n := strings.TrimSpace(s)
	if n == "" {
		return "", fault.Invalid("name", "name is required")
	}
	if utf8.RuneCountInString(n) > maxName {
		return "", fault.Invalid("name", "a name has at most 80 characters")
	}
	if !printable(n) {
		return "", fault.Invalid("name", "a name must not contain control characters")
	}
	return n, nil
}

// nameFor checks a name by the rules of kind.
func nameFor(kind, s string) (string, error) {
	if kind == Channel {
		return channelName(s)
	}
	return groupName(s)
}

// cleanTopic trims and checks a topic: at most 250 characters, no control
// characters except newlines.
func cleanTopic(s string) (string, error) {
	t := strings.TrimSpace(s)
	if utf8.RuneCountInString(t) > maxTopic {
		return "", fault.Invalid("topic", "a topic has at most 250 characters")
	}
	if !printable(strings.ReplaceAll(t, "\n", " ")) {
		return "", fault.Invalid("topic", "a topic must not contain control characters")
	}
	return t, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// distinct returns ids without repeats and without skip, in first-seen
// order.
func distinct(ids []id.ID, skip id.ID) []id.ID {
	seen := make(map[id.ID]bool, len(ids))
	out := make([]id.ID, 0, len(ids))
	for _, u := range ids {
		if u != skip && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}
