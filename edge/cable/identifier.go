package cable

import (
	"encoding/json"
	"fmt"

	"github.com/chatterly/chatterly/shared/id"
)

// Channel is one of the edge's channels.
type Channel uint8

// The channels of PROTOCOL.md.
const (
	ConversationChannel Channel = iota + 1
	PresenceChannel
	CallChannel
)

// String is the channel's name as clients write it.
func (c Channel) String() string {
	switch c {
	case ConversationChannel:
		return "ConversationChannel"
	case PresenceChannel:
		return "PresenceChannel"
	case CallChannel:
		return "CallChannel"
	}
	return "unknown"
}

// Identifier is a subscription's decoded params.
type Identifier struct {
	Channel Channel
	// ID is the conversation of a ConversationChannel subscription.
	ID id.ID
}

// ParseIdentifier decodes a command's Params. A ConversationChannel needs
// an "id" that is a positive decimal string (64-bit ids travel as strings);
// other params are ignored, as Action Cable ignores them for channels that
// do not read them.
func ParseIdentifier(params []byte) (Identifier, error) {
	var p struct {
		Channel string          `json:"channel"`
		ID      json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(params, &p); err != nil {
		return Identifier{}, malformed("identifier is not a JSON object")
	}
	var ident Identifier
	switch p.Channel {
	case "ConversationChannel":
		ident.Channel = ConversationChannel
		if err := ident.ID.UnmarshalJSON(p.ID); err != nil {
			return Identifier{}, fmt.Errorf("%w: ConversationChannel needs an id string", ErrMalformed)
		}
	case "PresenceChannel":
		ident.Channel = PresenceChannel
	case "CallChannel":
		ident.Channel = CallChannel
	default:
		return Identifier{}, ErrUnknownChannel
	}
	return ident, nil
}

// ErrUnknownChannel is returned for a well-formed identifier naming a
// channel the edge does not have; the subscription is rejected.
var ErrUnknownChannel = fmt.Errorf("%w: unknown channel", ErrMalformed)

// Action is the decoded data of a message command: the action name and the
// raw JSON object, which the channel decodes further.
type Action struct {
	Name string
	Raw  []byte
}

// ParseAction reads the action member of a message command's data.
func ParseAction(data []byte) (Action, error) {
	var a struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(data, &a); err != nil || a.Action == "" {
		return Action{}, malformed("data needs an action")
	}
	return Action{Name: a.Action, Raw: data}, nil
}
