package message

import (
	"context"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
)

// Lists of rows that each point at a message (a conversation's pins, a
// person's saved messages) page alike: newest first by the row's own id,
// the cursor being the last row's id, each row shown with its message.

// Paging of such lists.
const (
	attachedLimit    = 50
	maxAttachedLimit = 100
)

// AttachedArgs reads a list's cursor ("" for the first page) and limit (0
// for the default, clamped to the most).
func AttachedArgs(cursor string, limit int) (before id.ID, n int, err error) {
	if cursor != "" {
		if before, err = id.Parse(cursor); err != nil {
			return 0, 0, fault.Invalid("cursor", "cursor must be a next_cursor this endpoint returned")
		}
	}
	switch {
	case limit <= 0:
		limit = attachedLimit
	case limit > maxAttachedLimit:
		limit = maxAttachedLimit
	}
	return before, limit, nil
}

// AttachedPage is the page of rows, read with one more than limit (which
// tells whether another page exists): the first limit of them, each joined
// with its message (msg) rendered for viewer, a row whose message no
// longer exists left out; the next cursor is the last row's key.
func AttachedPage[T, R any](ctx context.Context, s *Service, viewer id.ID, rows []T, limit int,
	key, msg func(T) id.ID, join func(T, any) R) (conversation.Page[R], error) {
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		n := key(rows[limit-1]).String()
		next = &n
	}
	ids := make([]id.ID, len(rows))
	for i, r := range rows {
		ids[i] = msg(r)
	}
	msgs, err := s.Rendered(ctx, viewer, ids)
	if err != nil {
		return conversation.Page[R]{}, err
	}
	items := make([]R, 0, len(rows))
	for _, r := range rows {
		if m := msgs[msg(r)]; m != nil {
			items = append(items, join(r, m))
		}
	}
	return conversation.NewPage(items, next), nil
}
