package reaction

import (
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
)

// Policy for reactions. The message was read through message.Service.Get,
// which already answered not_found to whoever may not see it.

var errDeleted = fault.New(fault.Conflict, "the message is deleted")

// CanReact: members react (and take their reactions back) on messages that
// are not deleted; a channel's non-members join first.
func CanReact(a conversation.Access, m message.Message) error {
	if err := conversation.CanParticipate(a); err != nil {
		return err
	}
	if m.Deleted() {
		return errDeleted
	}
	return nil
}
