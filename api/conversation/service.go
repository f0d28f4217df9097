package conversation

import (
	"context"
	"errors"

	"github.com/chatterly/chatterly/api/block"
	"github.com/chatterly/chatterly/api/cache"
	"github.com/chatterly/chatterly/api/eventlog"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
)

// Service is the conversations' domain: creation, settings, membership,
// and the reads of conversations and members.
type Service struct {
	env      *Env
	timeline Timeline
}

// New returns a Service; timeline supplies the list's previews.
func New(env *Env, timeline Timeline) *Service { return &Service{env: env, timeline: timeline} }

// CreateInput is a new conversation as the client asked for it.
type CreateInput struct {
	Kind      string
	Name      *string
	Topic     *string
	MemberIDs []id.ID
}

// Create makes a conversation with caller as owner (a DM's two people are
// plain members). It answers false, with the existing DM, when the caller
// asks again for the DM of a pair that has one.
func (s *Service) Create(ctx context.Context, caller id.ID, in CreateInput) (Conversation, bool, error) {
	conv := Conversation{ID: s.env.IDs.Next(), Kind: in.Kind, CreatedBy: caller, CreatedAt: s.env.Now()}
	others := distinct(in.MemberIDs, caller)
	switch in.Kind {
	case Channel, Group:
		n, err := nameFor(in.Kind, deref(in.Name))
		if err != nil {
			return Conversation{}, false, err
		}
		conv.Name = &n
		if in.Kind == Channel && len(others) > 0 {
			return Conversation{}, false, fault.Invalid("member_ids", "a channel is joined by its members; member_ids is for groups and DMs")
		}
		if len(others) > maxInitialMembers {
			return Conversation{}, false, fault.Invalid("member_ids", "at most 100 initial members; add more afterwards")
		}
	case DM:
		if in.Name != nil || in.Topic != nil {
			return Conversation{}, false, fault.Invalid("name", "a DM has no name or topic")
		}
		if len(others) != 1 || len(in.MemberIDs) != 1 {
			return Conversation{}, false, fault.Invalid("member_ids", "a DM needs exactly one other user in member_ids")
		}
		conv.DMUsers = []id.ID{min(caller, others[0]), max(caller, others[0])}
		// A person who blocks the caller is, to the caller, no such user
		// (api/block), even when their DM exists.
		if blocked, err := block.Exists(ctx, s.env.DB, others[0], caller); err != nil {
			return Conversation{}, false, fault.Wrap(err, "create conversation")
		} else if blocked {
			return Conversation{}, false, noSuchUser("member_ids")
		}
		if c, ok, err := dmWith(ctx, s.env.DB, caller, others[0]); err != nil {
			return Conversation{}, false, fault.Wrap(err, "create conversation")
		} else if ok {
			existing, err := loadConversation(ctx, s.env.DB, c)
			return existing, false, err
		}
	default:
		return Conversation{}, false, fault.Invalid("kind", "kind must be channel, group or dm")
	}
	if in.Topic != nil {
		t, err := cleanTopic(*in.Topic)
		if err != nil {
			return Conversation{}, false, err
		}
		conv.Topic = t
	}
	if err := s.env.Limiter.Allow(ctx, s.env.Limits.Conversations, caller.String()); err != nil {
		return Conversation{}, false, err
	}
	creatorRole := Owner
	if in.Kind == DM {
		creatorRole = Member
	}
	var fx Effects
	created := true
	err := s.env.InTx(ctx, "create conversation", func(tx pgx.Tx) error {
		ok, err := insertConversation(ctx, tx, conv)
		if err != nil || !ok {
			created = false // a DM created concurrently by the other side
			return err
		}
		ms, err := addMembers(ctx, tx, conv.ID, caller, []id.ID{caller}, creatorRole, conv.CreatedAt, "member_ids")
		if err != nil {
			return err
		}
		more, err := addMembers(ctx, tx, conv.ID, caller, others, Member, conv.CreatedAt, "member_ids")
		if err != nil {
			return err
		}
		fx, err = s.memberEffects(ctx, tx, conv.ID, event.MemberJoined, append(ms, more...))
		if err != nil {
			return err
		}
		conv, err = loadConversation(ctx, tx, conv.ID)
		return err
	})
	if err != nil {
		return Conversation{}, false, err
	}
	if !created {
		c, _, err := dmWith(ctx, s.env.DB, caller, others[0])
		if err != nil {
			return Conversation{}, false, fault.Wrap(err, "create conversation")
		}
		existing, err := loadConversation(ctx, s.env.DB, c)
		return existing, false, err
	}
	s.env.Apply(ctx, fx)
	return conv, true, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// memberEffects records one member event per membership and returns what
// must follow the commit: the member set (joined, left), each member's
// cached list, the conversation's cached resource (its member count), the
// events.
func (s *Service) memberEffects(ctx context.Context, tx pgx.Tx, c id.ID, typ string, ms []Membership) (Effects, error) {
	fx := Effects{Conversation: c, Invalidate: []cache.Ref{ConversationRef(c)}}
	specs := make([]eventlog.Spec, len(ms))
	for i, m := range ms {
		// Members leave, and roles change, while the conversation is
		// archived (an owner hands over before leaving); nobody joins.
		specs[i] = eventlog.Spec{Conversation: c, Type: typ, Data: RenderMember(m), WhileArchived: typ != event.MemberJoined}
		fx.Invalidate = append(fx.Invalidate, MemberOfRef(m.UserID))
		switch typ {
		case event.MemberJoined:
			fx.Joined = append(fx.Joined, m.UserID)
		case event.MemberLeft:
			fx.Left = append(fx.Left, m.UserID)
		}
	}
	evs, err := s.env.Outbox.Record(ctx, tx, specs...)
	fx.Events = evs
	return fx, err
}

// Update changes c's name and/or topic (nil leaves it) and tells members.
func (s *Service) Update(ctx context.Context, caller, c id.ID, name, topic *string) (Conversation, error) {
	if name == nil && topic == nil {
		return Conversation{}, fault.Invalid("name", "nothing to change: send name and/or topic")
	}
	var conv Conversation
	var fx Effects
	err := s.env.InTx(ctx, "update conversation", func(tx pgx.Tx) error {
		a, err := lockAccess(ctx, tx, c, caller)
		if err != nil {
			return err
		}
		if err := CanUpdate(a); err != nil {
			return err
		}
		if name != nil {
			n, err := nameFor(a.Kind, *name)
			if err != nil {
				return err
			}
			name = &n
		}
		if topic != nil {
			t, err := cleanTopic(*topic)
			if err != nil {
				return err
			}
			topic = &t
		}
		if conv, err = update(ctx, tx, c, name, topic, s.env.Now()); err != nil {
			return err
		}
		evs, err := s.env.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: c, Type: event.ConversationUpdated, Data: Render(conv)})
		fx = Effects{Conversation: c, Invalidate: []cache.Ref{ConversationRef(c)}, Events: evs}
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	s.env.Apply(ctx, fx)
	return conv, nil
}

// Join makes caller a member of channel c. A member joining again gets
// their membership and false.
func (s *Service) Join(ctx context.Context, caller, c id.ID) (Membership, bool, error) {
	return s.add(ctx, caller, c, caller, Member, CanJoin)
}

// AddMember makes target a member of c with role, on behalf of caller.
func (s *Service) AddMember(ctx context.Context, caller, c, target id.ID, role Role) (Membership, bool, error) {
	if role != Member && role != Admin {
		return Membership{}, false, fault.Invalid("role", "role must be member or admin")
	}
	return s.add(ctx, caller, c, target, role, func(a Access) error { return CanAddMember(a, role) })
}

func (s *Service) add(ctx context.Context, caller, c, target id.ID, role Role, allow func(Access) error) (Membership, bool, error) {
	var m Membership
	var fx Effects
	created := false
	err := s.env.InTx(ctx, "add member", func(tx pgx.Tx) error {
		a, err := lockAccess(ctx, tx, c, caller)
		if err != nil {
			return err
		}
		if err := allow(a); err != nil {
			return err
		}
		if a.Kind == DM {
			return errDMFixed
		}
		ms, err := addMembers(ctx, tx, c, caller, []id.ID{target}, role, s.env.Now(), "user_id")
		if errors.Is(err, errNoSuchUser) {
			// The user named in the path or body is the resource sought.
			return &fault.Error{Code: fault.NotFound, Field: "user_id", Message: "no such user"}
		}
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			var ok bool
			m, ok, err = loadMembership(ctx, tx, c, target)
			if err == nil && !ok {
				err = fault.New(fault.Internal, "membership vanished under the conversation lock")
			}
			return err
		}
		m, created = ms[0], true
		fx, err = s.memberEffects(ctx, tx, c, event.MemberJoined, ms)
		return err
	})
	if err != nil {
		return Membership{}, false, err
	}
	if created {
		s.env.Apply(ctx, fx)
	}
	return m, created, nil
}

// Leave ends caller's membership of c.
func (s *Service) Leave(ctx context.Context, caller, c id.ID) error {
	return s.remove(ctx, caller, c, caller, func(a Access, _ Role) error { return CanLeave(a) })
}

// RemoveMember ends target's membership of c on behalf of caller; a caller
// removing themself leaves.
func (s *Service) RemoveMember(ctx context.Context, caller, c, target id.ID) error {
	if target == caller {
		return s.Leave(ctx, caller, c)
	}
	return s.remove(ctx, caller, c, target, CanRemoveMember)
}

func (s *Service) remove(ctx context.Context, caller, c, target id.ID, allow func(Access, Role) error) error {
	var fx Effects
	err := s.env.InTx(ctx, "remove member", func(tx pgx.Tx) error {
		a, err := lockAccess(ctx, tx, c, caller)
		if err != nil {
			return err
		}
		// Who is a member is asked only of callers who see the conversation.
		if err := CanSee(a); err != nil {
			return err
		}
		m, ok, err := loadMembership(ctx, tx, c, target)
		if err != nil {
			return err
		}
		if err := allow(a, m.Role); err != nil {
			return err
		}
		if !ok {
			return fault.New(fault.NotFound, "no such member")
		}
		// The owner leaves last: with others still in, they hand
		// ownership over first (CanChangeRole), so a conversation with
		// members always has its owner.
		if m.Role == Owner {
			if n, err := memberCount(ctx, tx, c); err != nil {
				return err
			} else if n > 1 {
				return errOwnerStays
			}
		}
		if m, _, err = removeMember(ctx, tx, c, target); err != nil {
			return err
		}
		fx, err = s.memberEffects(ctx, tx, c, event.MemberLeft, []Membership{m})
		return err
	})
	if err != nil {
		return err
	}
	s.env.Apply(ctx, fx)
	return nil
}

// ChangeRole makes target's role in c to, on behalf of caller, by the rules
// of CanChangeRole. to Owner hands ownership over: target becomes the owner
// and caller an admin, both in one transaction with their member.updated
// events. A member who has the role already is answered as they are,
// with no event.
func (s *Service) ChangeRole(ctx context.Context, caller, c, target id.ID, to Role) (Membership, error) {
	if to != Owner && to != Admin && to != Member {
		return Membership{}, fault.Invalid("role", "role must be owner, admin or member")
	}
	var m Membership
	var fx Effects
	changed := false
	err := s.env.InTx(ctx, "change role", func(tx pgx.Tx) error {
		a, err := lockAccess(ctx, tx, c, caller)
		if err != nil {
			return err
		}
		// Who is a member is asked only of callers who see the conversation.
		if err := CanSee(a); err != nil {
			return err
		}
		var ok bool
		if m, ok, err = loadMembership(ctx, tx, c, target); err != nil {
			return err
		}
		if err := CanChangeRole(a, m.Role); err != nil {
			return err
		}
		if !ok {
			return fault.New(fault.NotFound, "no such member")
		}
		if m.Role == to {
			return nil
		}
		ms := []Membership{m}
		ms[0].Role = to
		if to == Owner {
			me, _, err := loadMembership(ctx, tx, c, caller)
			if err != nil {
				return err
			}
			me.Role = Admin
			ms = append(ms, me)
		}
		for _, x := range ms {
			if err := setRole(ctx, tx, c, x.UserID, x.Role); err != nil {
				return err
			}
		}
		m, changed = ms[0], true
		fx, err = s.memberEffects(ctx, tx, c, event.MemberUpdated, ms)
		return err
	})
	if err != nil {
		return Membership{}, err
	}
	if changed {
		s.env.Apply(ctx, fx)
	}
	return m, nil
}

// Archive archives c (archive true) or unarchives it on behalf of caller,
// by CanArchive. While archived, a conversation is read-only: every write
// whose event is not allowed there (eventlog.Spec.WhileArchived) is refused
// with conversation_archived. Members still read it, mark it read, leave,
// and have their roles changed; nobody joins. Archiving an archived
// conversation (or unarchiving one that is not) changes nothing and records
// no event.
func (s *Service) Archive(ctx context.Context, caller, c id.ID, archive bool) (Conversation, error) {
	typ := event.ConversationUnarchived
	if archive {
		typ = event.ConversationArchived
	}
	var conv Conversation
	var fx Effects
	changed := false
	err := s.env.InTx(ctx, "archive conversation", func(tx pgx.Tx) error {
		a, err := lockAccess(ctx, tx, c, caller)
		if err != nil {
			return err
		}
		if err := CanArchive(a); err != nil {
			return err
		}
		if conv, changed, err = setArchived(ctx, tx, c, archive, s.env.Now()); err != nil || !changed {
			return err
		}
		evs, err := s.env.Outbox.Record(ctx, tx, eventlog.Spec{Conversation: c, Type: typ, Data: Render(conv), WhileArchived: true})
		fx = Effects{Conversation: c, Invalidate: []cache.Ref{ConversationRef(c)}, Events: evs}
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	if changed {
		s.env.Apply(ctx, fx)
	}
	return conv, nil
}
