package mention

import (
	"context"
	"time"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// SettingsJSON is a member's notification settings for one conversation:
// the answer of PUT /conversations/:id/notifications, and the
// notify_level / muted_until of the caller's conversation view.
type SettingsJSON struct {
	ConversationID id.ID      `json:"conversation_id"`
	Level          string     `json:"level"`
	MutedUntil     *time.Time `json:"muted_until"`
}

// Settings is the notification settings' domain.
type Settings struct {
	env *conversation.Env
}

// NewSettings returns Settings.
func NewSettings(env *conversation.Env) *Settings { return &Settings{env: env} }

// Mount adds the settings route to r.
func (s *Settings) Mount(r *rest.Router) {
	r.Handle("PUT", "/conversations/:id/notifications", s.put, rest.MaxBody(1<<10))
}

// Set replaces caller's notification settings in c: level, and the end of
// a mute (nil for none; a time past is no mute). Members only: a channel's
// non-member is forbidden, a group's outsider finds nothing.
func (s *Settings) Set(ctx context.Context, caller, c id.ID, level string, mutedUntil *time.Time) (SettingsJSON, error) {
	switch level {
	case LevelAll, LevelMentions, LevelNone:
	default:
		return SettingsJSON{}, fault.Invalid("level", "level must be all, mentions or none")
	}
	if mutedUntil != nil {
		t := mutedUntil.UTC().Truncate(time.Millisecond)
		mutedUntil = &t
	}
	a, err := s.env.Participant(ctx, c, caller)
	if err != nil {
		return SettingsJSON{}, fault.Wrap(err, "notification settings")
	}
	if err := CanSetNotifications(a); err != nil {
		return SettingsJSON{}, err
	}
	ok, err := saveSettings(ctx, s.env.DB, c, caller, level, mutedUntil)
	if err != nil {
		return SettingsJSON{}, fault.Wrap(err, "notification settings")
	}
	if !ok {
		// Left between the check and the update.
		return SettingsJSON{}, fault.New(fault.NotFound, "you are not a member of this conversation")
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.env.Cache.Invalidate(ctx, conversation.MemberOfRef(caller)); err != nil {
		s.env.Log.WarnContext(ctx, "cache not invalidated; entries expire by TTL", "err", err)
	}
	return SettingsJSON{ConversationID: c, Level: level, MutedUntil: mutedUntil}, nil
}

// CanSetNotifications: a member keeps their own settings; a channel's
// non-members have none (forbidden), a group's outsiders find nothing.
func CanSetNotifications(a conversation.Access) error { return conversation.CanParticipate(a) }

type settingsRequest struct {
	Level      string     `json:"level"`
	MutedUntil *time.Time `json:"muted_until"`
}

// put: PUT /conversations/:id/notifications {level, muted_until} → 200
// the settings.
func (s *Settings) put(c *rest.Ctx) error {
	cid, err := c.IDParam("id")
	if err != nil {
		return err
	}
	var req settingsRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	out, err := s.Set(c.Context(), c.UserID(), cid, req.Level, req.MutedUntil)
	if err != nil {
		return err
	}
	return c.JSON(fasthttp.StatusOK, out)
}
