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
}

// JSON is the user resource as clients see it. Email is shown to its owner
// only: other users, and events, never carry it.
type JSON struct {
	ID          id.ID     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Render is the public view of u, as any signed-in user may see it.
func Render(u User) JSON {
	return JSON{
		ID:          u.ID,
		Username:    u.Username,
		DisplayName: u.DisplayName,
		// Millisecond UTC, like every time the API and the events send.
		CreatedAt: u.CreatedAt.UTC().Truncate(time.Millisecond),
	}
}

// RenderSelf is u as its owner sees it: the public view plus the email.
func RenderSelf(u User) JSON {
	j := Render(u)
	j.Email = u.Email
	return j
}
