package message

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
)

// Input rules; the web client's composer mirrors them.
const (
	maxBody        = 4000 // characters, after trimming
	maxClientMsgID = 100  // bytes
)

// cleanBody trims s and checks it is 1 to 4,000 characters of valid text
// (tabs and newlines allowed, other control characters not); empty is
// allowed when the message carries files.
func cleanBody(s string, files bool) (string, error) {
	b := strings.TrimSpace(s)
	if b == "" && files {
		return "", nil
	}
	if b == "" {
		return "", fault.Invalid("body", "body must not be empty")
	}
	if utf8.RuneCountInString(b) > maxBody {
		return "", fault.Invalid("body", "body has at most 4000 characters")
	}
	for _, r := range b {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r') {
			return "", fault.Invalid("body", "body must be valid text without control characters")
		}
	}
	return b, nil
}

// checkClientMsgID accepts 1 to 100 bytes of printable ASCII (clients send
// a UUID).
func checkClientMsgID(s string) error {
	if len(s) == 0 || len(s) > maxClientMsgID {
		return fault.Invalid("client_msg_id", "client_msg_id has 1 to 100 characters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fault.Invalid("client_msg_id", "client_msg_id uses printable ASCII only")
		}
	}
	return nil
}
