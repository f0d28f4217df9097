package conversation

import "github.com/chatterly/chatterly/api/fault"

// Policy for conversations and their members. Every function answers nil
// (allowed), not_found (the caller may not know the conversation exists) or
// forbidden (the caller sees it but may not do this). Handlers call these
// and decide nothing themselves.

var (
	errNotFound     = fault.New(fault.NotFound, "no such conversation")
	errNotMember    = fault.New(fault.Forbidden, "only members may do that; join the channel first")
	errNotManager   = fault.New(fault.Forbidden, "only the conversation's owner or admins may do that")
	errDMFixed      = fault.New(fault.Forbidden, "a direct message always has exactly its two members")
	errOwnerOnly    = fault.New(fault.Forbidden, "only the owner may do that")
	errCannotRemove = fault.New(fault.Forbidden, "that member cannot be removed by you")
	errNoMembership = fault.New(fault.NotFound, "you are not a member of this conversation")
	errOwnRole      = fault.New(fault.Forbidden, "the owner's role changes only by making another member the owner")
	errOwnerStays   = fault.New(fault.Forbidden, "the owner cannot leave while others remain: make another member the owner first")
)

// CanSee: members see every conversation; anyone sees a channel.
func CanSee(a Access) error {
	if a.IsMember() || a.Kind == Channel {
		return nil
	}
	return errNotFound
}

// CanParticipate covers acting as a member: posting, reacting, marking read,
// replaying the event log. Members may; a channel's non-members see it but
// must join first.
func CanParticipate(a Access) error {
	if a.IsMember() {
		return nil
	}
	if err := CanSee(a); err != nil {
		return err
	}
	return errNotMember
}

// CanUpdate covers the settings (name, topic): owner or admins, never of a
// DM.
func CanUpdate(a Access) error {
	if err := CanSee(a); err != nil {
		return err
	}
	if a.Kind == DM {
		return errDMFixed
	}
	if !a.Role.Manager() {
		return errNotManager
	}
	return nil
}

// CanJoin: anyone may join a channel (the only kind a non-member sees); a
// member joining again is a no-op the service answers.
func CanJoin(a Access) error { return CanSee(a) }

// CanLeave: a member of a channel or group may leave; a DM is fixed.
func CanLeave(a Access) error {
	if err := CanSee(a); err != nil {
		return err
	}
	if a.Kind == DM {
		return errDMFixed
	}
	if !a.IsMember() {
		return errNoMembership
	}
	return nil
}

// CanAddMember: owner or admins add members to channels and groups; only the
// owner adds admins.
func CanAddMember(a Access, role Role) error {
	if err := CanUpdate(a); err != nil {
		return err
	}
	if role == Owner || (role == Admin && a.Role != Owner) {
		return errOwnerOnly
	}
	return nil
}

// CanRemoveMember: the owner removes anyone but themself (they leave
// instead); admins remove plain members. target is "" for a user who is not
// a member: a manager may ask, and hears not_found from the service.
func CanRemoveMember(a Access, target Role) error {
	if err := CanUpdate(a); err != nil {
		return err
	}
	switch {
	case target == Owner:
		return errCannotRemove
	case a.Role == Owner, target == Member, target == "":
		return nil
	}
	return errCannotRemove
}

// CanChangeRole: the rules of roles. A channel or group has one owner;
// admins and the owner manage it (settings, members). Only the owner
// changes roles: they make a member an admin or an admin a member, or hand
// ownership to another member, becoming an admin themself. Nobody changes
// the owner's role but by that handover, so an admin never demotes the
// owner (nor another admin: admins change no roles). target is the role
// of the member to change ("" for a user who is not a member: the owner
// may ask, and hears not_found from the service).
func CanChangeRole(a Access, target Role) error {
	if err := CanUpdate(a); err != nil {
		return err
	}
	if a.Role != Owner {
		return errOwnerOnly
	}
	if target == Owner {
		return errOwnRole
	}
	return nil
}

// CanListMembers: whoever sees the conversation sees its members.
func CanListMembers(a Access) error { return CanSee(a) }

// CanArchive: the owner or admins archive and unarchive a channel or a
// group (the settings' rule, CanUpdate); a DM is never archived.
func CanArchive(a Access) error { return CanUpdate(a) }
