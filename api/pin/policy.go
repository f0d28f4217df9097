package pin

import (
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
)

// Policy for pins. A message the caller may not read does not exist for
// them (message.Service.Get answers not_found), nor do the pins of a
// conversation they may not see.

var errDeleted = fault.New(fault.Conflict, "the message is deleted")

// CanPin: members pin and unpin messages of their conversation; a
// channel's non-members, who read it, join first (403).
func CanPin(a conversation.Access) error { return conversation.CanParticipate(a) }

// CanList: whoever reads the conversation's messages sees its pins.
func CanList(a conversation.Access) error { return message.CanRead(a) }
