// Package profile is PATCH /me: a person's display name, avatar, status
// and time zone. Each change is told, as user.updated on their user topics,
// to the people who see them: themselves (their other devices) and the
// members of every conversation they share; nobody else. The event is
// ephemeral (no conversation log): a client that missed one reads the user
// again when it next lists members or opens a profile.
package profile

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
	_ "time/tzdata" // time zones validate on hosts without a zoneinfo database
	"unicode"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/api/reaction"
	"github.com/chatterly/chatterly/api/user"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Avatars checks that a file is the caller's complete avatar upload
// (api/file).
type Avatars interface {
	AvatarOf(ctx context.Context, caller, fid id.ID) error
}

// Service is the profiles' domain.
type Service struct {
	db      *pgxpool.Pool
	avatars Avatars
	events  *event.Appender
	limiter *ratelimit.Limiter
	rule    ratelimit.Rule
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Service.
func New(db *pgxpool.Pool, avatars Avatars, events *event.Appender, limiter *ratelimit.Limiter, now func() time.Time,
	log *slog.Logger) *Service {
	return &Service{db: db, avatars: avatars, events: events, limiter: limiter, now: now, log: log,
		rule: ratelimit.Rule{Name: "profile", Max: 30, Window: time.Minute}}
}

// Patch is a change of profile: fields not given (nil, or Set false) are
// left as they are; Avatar and Status given as null remove them.
type Patch struct {
	DisplayName *string
	Avatar      Nullable[id.ID]
	Status      Nullable[StatusInput]
	TimeZone    *string
}

// Nullable is a JSON field that may be absent (Set false), null (Value
// nil) or a value.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON implements json.Unmarshaler; encoding/json calls it for
// null too, since a Nullable is no pointer.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	n.Value = new(T)
	return json.Unmarshal(b, n.Value)
}

// StatusInput is a status as the client sends it.
type StatusInput struct {
	Text      string     `json:"text"`
	Emoji     string     `json:"emoji"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// Limits of a profile's text, in characters.
const (
	maxDisplayName = 64
	maxStatus      = 100
)

// Update applies p to caller's profile and answers it as they see it.
func (s *Service) Update(ctx context.Context, caller id.ID, p Patch) (user.JSON, error) {
	ch, err := s.validate(ctx, caller, p)
	if err != nil {
		return user.JSON{}, err
	}
	if err := s.limiter.Allow(ctx, s.rule, caller.String()); err != nil {
		return user.JSON{}, err
	}
	u, err := update(ctx, s.db, caller, ch, s.now())
	if err != nil {
		return user.JSON{}, fault.Wrap(err, "update profile")
	}
	s.tell(ctx, u)
	return user.RenderSelf(u), nil
}

// validate checks p and turns it into the columns to change.
func (s *Service) validate(ctx context.Context, caller id.ID, p Patch) (change, error) {
	var c change
	if p.DisplayName != nil {
		n := strings.TrimSpace(*p.DisplayName)
		if n == "" || utf8.RuneCountInString(n) > maxDisplayName || !text(n) {
			return c, fault.Invalid("display_name", "display_name has 1 to 64 characters, without control characters")
		}
		c.displayName = &n
	}
	if p.Avatar.Set {
		var a int64
		if p.Avatar.Value != nil {
			if err := s.avatars.AvatarOf(ctx, caller, *p.Avatar.Value); err != nil {
				return c, err
			}
			a = int64(*p.Avatar.Value)
		}
		c.avatar = &a
	}
	if p.Status.Set {
		st := StatusInput{}
		if v := p.Status.Value; v != nil {
			st.Text, st.Emoji = strings.TrimSpace(v.Text), strings.TrimSpace(v.Emoji)
			if utf8.RuneCountInString(st.Text) > maxStatus || !text(st.Text) {
				return c, fault.Invalid("status.text", "status.text has at most 100 characters, without control characters")
			}
			if st.Emoji != "" {
				if err := reaction.CheckEmoji(st.Emoji); err != nil {
					return c, fault.Invalid("status.emoji", "status.emoji is one emoji or a :short_name:")
				}
			}
			if st.Text == "" && st.Emoji == "" {
				return c, fault.Invalid("status", "a status has text or an emoji; null clears it")
			}
			if v.ExpiresAt != nil {
				if !v.ExpiresAt.After(s.now()) {
					return c, fault.Invalid("status.expires_at", "status.expires_at must be in the future")
				}
				e := v.ExpiresAt.UTC()
				st.ExpiresAt = &e
			}
		}
		c.status = &st
	}
	if p.TimeZone != nil {
		tz := strings.TrimSpace(*p.TimeZone)
		if tz != "" {
			if _, err := time.LoadLocation(tz); err != nil || tz == "Local" || len(tz) > 64 {
				return c, fault.Invalid("time_zone", "time_zone is an IANA time zone name, such as Europe/Paris, or empty")
			}
		}
		c.timeZone = &tz
	}
	return c, nil
}

func text(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// tell appends user.updated to the user topics of everyone who sees u. It
// never fails the update, which is committed: a lost event leaves a client
// with the old profile until it next reads the user.
func (s *Service) tell(ctx context.Context, u user.User) {
	ctx = context.WithoutCancel(ctx)
	data, err := json.Marshal(user.Render(u))
	if err != nil {
		s.log.WarnContext(ctx, "user.updated not sent", "user_id", u.ID.String(), "err", err)
		return
	}
	env, err := event.Encode(event.Envelope{Type: event.UserUpdated, At: s.now(), Data: data})
	if err != nil {
		s.log.WarnContext(ctx, "user.updated not sent", "user_id", u.ID.String(), "err", err)
		return
	}
	who, err := audience(ctx, s.db, u.ID)
	if err != nil {
		s.log.WarnContext(ctx, "user.updated not sent", "user_id", u.ID.String(), "err", err)
		return
	}
	entries := make([]event.Entry, len(who))
	for i, w := range who {
		entries[i] = event.Entry{Topic: rkey.UserTopic(w), Envelope: env}
	}
	if _, err := s.events.AppendAll(ctx, entries); err != nil {
		s.log.WarnContext(ctx, "user.updated not sent to everyone", "user_id", u.ID.String(), "err", err)
	}
}
