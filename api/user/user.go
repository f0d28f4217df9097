// Package user is the user resource: its row, the columns every store
// selects it with, and its one JSON serializer. Every api package that shows
// a user (auth's /me, member lists, message authors) renders it here, so the
// REST API and the events carry the same shape.
package user

import (
	"time"

	"github.com/chatterly/chatterly/shared/id"
)

// User is a row of the users table, without the password hash (which never
// leaves the auth package).
type User struct {
	ID          id.ID
	Email       string
	Username    string
	DisplayName string
	CreatedAt   time.Time
	// AvatarID is the user's avatar file (api/file), 0 for none.
	AvatarID id.ID
	// Status is text and an emoji, shown until StatusExpiresAt (nil: until
	// changed).
	StatusText      string
	StatusEmoji     string
	StatusExpiresAt *time.Time
	// TimeZone is an IANA name ("Europe/Paris"), "" when not set.
	TimeZone string
}

// JSON is the user resource as clients see it. Email is shown to its owner
// only: other users, and events, never carry it.
type JSON struct {
	ID          id.ID     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// AvatarID is served by GET /avatars/:id?size=64|256; null for none.
	AvatarID *id.ID `json:"avatar_id"`
	// Status is null when none is set or it has expired.
	Status   *Status `json:"status"`
	TimeZone string  `json:"time_zone"`
}

// Status is a user's status as clients see it.
type Status struct {
	Text      string     `json:"text"`
	Emoji     string     `json:"emoji"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// Render is the public view of u, as any signed-in user may see it. A
// status past its expiry is not shown (the row keeps it until the next
// change: expiring costs no write).
func Render(u User) JSON {
	j := JSON{
		ID:          u.ID,
		Username:    u.Username,
		DisplayName: u.DisplayName,
		// Millisecond UTC, like every time the API and the events send.
		CreatedAt: u.CreatedAt.UTC().Truncate(time.Millisecond),
		TimeZone:  u.TimeZone,
	}
	if u.AvatarID != 0 {
		a := u.AvatarID
		j.AvatarID = &a
	}
	if (u.StatusText != "" || u.StatusEmoji != "") && (u.StatusExpiresAt == nil || u.StatusExpiresAt.After(time.Now())) {
		j.Status = &Status{Text: u.StatusText, Emoji: u.StatusEmoji}
		if u.StatusExpiresAt != nil {
			e := u.StatusExpiresAt.UTC().Truncate(time.Millisecond)
			j.Status.ExpiresAt = &e
		}
	}
	return j
}

// RenderSelf is u as its owner sees it: the public view plus the email.
func RenderSelf(u User) JSON {
	j := Render(u)
	j.Email = u.Email
	return j
}
