package cable

import (
	"bytes"
	"errors"
	"fmt"
)

// Kind is a client command.
type Kind uint8

// The commands of the Action Cable protocol.
const (
	Subscribe Kind = iota + 1
	Unsubscribe
	Message
)

// ErrMalformed is wrapped by every error ParseCommand returns: the edge
// counts such commands and ignores them, and disconnects a socket that
// keeps sending them.
var ErrMalformed = errors.New("cable: malformed command")

// Command is one parsed client command. Its slices point into the bytes
// given to ParseCommand (or, for escaped strings, into new memory) and must
// be copied before those bytes are reused.
type Command struct {
	Kind Kind
	// Identifier is the identifier's JSON string literal exactly as the
	// client sent it, quotes and escapes included: replies echo it.
	Identifier []byte
	// Params is the identifier's content (the client's JSON.stringify of
	// the channel params), unescaped.
	Params []byte
	// Data is the data member's content, unescaped; nil when absent.
	Data []byte
}

// MaxIdentifier bounds an identifier literal's length: identifiers are
// interned and kept for the life of a subscription, so a client may not
// make them large.
const MaxIdentifier = 512

// ErrIdentifierTooLong is returned, with the command's Kind and Identifier
// filled in, for an identifier longer than MaxIdentifier: the edge rejects
// such a subscribe (every subscribe gets an answer, or the official client
// re-sends it forever) and counts it as malformed.
var ErrIdentifierTooLong = fmt.Errorf("%w: identifier too long", ErrMalformed)

var (
	keyCommand    = []byte(`"command"`)
	keyIdentifier = []byte(`"identifier"`)
	keyData       = []byte(`"data"`)
)

// ParseCommand reads one command: a JSON object whose command, identifier
// and data members are strings. Other members are ignored; a repeated
// member, a non-string command, identifier or data, an unknown command or
// trailing bytes are malformed.
func ParseCommand(b []byte) (Command, error) {
	var cmd Command
	var cmdLit, dataLit []byte
	var cmdEsc, identEsc, dataEsc bool
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return cmd, malformed("want a JSON object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return cmd, malformed("empty command")
	}
	for {
		kEnd, _, err := scanString(b, i)
		if err != nil {
			return cmd, malformed("bad member name")
		}
		key := b[i:kEnd]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return cmd, malformed("want ':'")
		}
		i = skipSpace(b, i+1)
		var slot *[]byte
		var esc *bool
		switch {
		case bytes.Equal(key, keyCommand):
			slot, esc = &cmdLit, &cmdEsc
		case bytes.Equal(key, keyIdentifier):
			slot, esc = &cmd.Identifier, &identEsc
		case bytes.Equal(key, keyData):
			slot, esc = &dataLit, &dataEsc
		}
		if slot != nil {
			if *slot != nil {
				return cmd, malformed("repeated member " + string(key))
			}
			end, escaped, err := scanString(b, i)
			if err != nil {
				return cmd, malformed(string(key) + " must be a string")
			}
			*slot, *esc = b[i:end], escaped
			i = end
		} else {
			end, err := skipValue(b, i, 0)
			if err != nil {
				return cmd, malformed("bad value")
			}
			i = end
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return cmd, malformed("unterminated object")
		}
		if b[i] == '}' {
			i++
			break
		}
		if b[i] != ',' {
			return cmd, malformed("want ',' or '}'")
		}
		i = skipSpace(b, i+1)
	}
	if skipSpace(b, i) != len(b) {
		return cmd, malformed("trailing bytes")
	}
	if cmdLit == nil {
		return cmd, malformed("no command")
	}
	switch string(unquote(cmdLit, cmdEsc)) {
	case "subscribe":
		cmd.Kind = Subscribe
	case "unsubscribe":
		cmd.Kind = Unsubscribe
	case "message":
		cmd.Kind = Message
	default:
		return cmd, malformed("unknown command")
	}
	if cmd.Identifier == nil {
		return cmd, malformed("no identifier")
	}
	if len(cmd.Identifier) > MaxIdentifier {
		return cmd, ErrIdentifierTooLong
	}
	cmd.Params = unquote(cmd.Identifier, identEsc)
	if dataLit != nil {
		cmd.Data = unquote(dataLit, dataEsc)
	}
	if cmd.Kind == Message && cmd.Data == nil {
		return cmd, malformed("message without data")
	}
	return cmd, nil
}

func malformed(why string) error { return fmt.Errorf("%w: %s", ErrMalformed, why) }
