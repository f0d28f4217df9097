package call

import (
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/id"
)

// authorize decides whether participant by may make move t on c. Whether
// the call's status allows t is the database's to decide (store.move), at
// the moment of the move; this decides only who may ask: the callee rings,
// accepts and declines; either participant ends. A user who does not take
// part never gets here (Get answers not_found).
func authorize(c Call, by id.ID, t transition) error {
	switch t.to {
	case Ringing, Active, Declined:
		if by != c.CalleeID {
			return fault.Newf(fault.Forbidden, "only the callee can make the call %s", t.to)
		}
	case Ended:
		if !c.Participant(by) {
			return errNotFound
		}
	default:
		return fault.Newf(fault.Forbidden, "a call becomes %s on its own", t.to)
	}
	return nil
}
