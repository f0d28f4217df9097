package message

import (
	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
)

// Policy for messages. a is the caller's access to the message's
// conversation. A message of a conversation the caller may not see does
// not exist for them (404); one they see but may not change is 403.

var (
	errNoMessage  = fault.New(fault.NotFound, "no such message")
	errNotAuthor  = fault.New(fault.Forbidden, "only the author may edit a message")
	errNotDeleter = fault.New(fault.Forbidden, "only the author or the conversation's owner or admins may delete a message")
	errDeleted    = fault.New(fault.Conflict, "the message is deleted")
)

// CanRead: whoever sees the conversation reads its messages.
func CanRead(a conversation.Access) error {
	if conversation.CanSee(a) != nil {
		return errNoMessage
	}
	return nil
}

// CanPost: members post (and reply); a channel's non-members join first.
func CanPost(a conversation.Access) error { return conversation.CanParticipate(a) }

// CanEdit: the author, still a member, edits a message that is not deleted.
func CanEdit(a conversation.Access, m Message, caller id.ID) error {
	if err := CanRead(a); err != nil {
		return err
	}
	if m.UserID != caller {
		return errNotAuthor
	}
	if err := conversation.CanParticipate(a); err != nil {
		return err
	}
	if m.Deleted() {
		return errDeleted
	}
	return nil
}

// CanDelete: the author while a member, or the conversation's owner or
// admins.
func CanDelete(a conversation.Access, m Message, caller id.ID) error {
	if err := CanRead(a); err != nil {
		return err
	}
	if a.Role.Manager() || (m.UserID == caller && a.IsMember()) {
		return nil
	}
	return errNotDeleter
}
