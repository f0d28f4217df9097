// Package mention is mentions and notifications: the `@username`,
// `@channel` and `@here` a message's body names, parsed on send and stored
// with the message as structured mentions; each member's notification
// settings for a conversation (level and mute); and the notification.created
// events a send puts on the user topics of the people it concerns.
//
// Parsing. A mention is `@` at the start of the body or after a character
// that is not a letter, digit, `_` or `.` (so an email address is none),
// followed by a username's characters (a-z, 0-9, `_`, `.`; matched
// case-insensitively; a trailing `.` ends the sentence, not the name).
// `@channel` and `@here` are the two specials and win over users of those
// names. A username mentions someone only when it names a member of the
// conversation; others stay plain text. At most MaxNames names are
// resolved per message.
//
// Notifications (Notifier). A send notifies, after its commit, and never its
// author, the members it concerns, each once, for the first reason that
// applies: mention (named), dm (any message of a DM), reply (a reply in a
// thread whose root they wrote), channel (@channel: every member), here
// (@here: every member online then). A member's level decides: all takes
// every reason, mentions all but reply, none nothing; a mute (muted_until
// in the future) silences the conversation until it ends; a person who
// blocks the author (api/block) is never notified of their messages. A
// message that mentions nobody, is not in a DM and is no reply costs the
// send nothing here: no query, no allocation.
package mention

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
)

// MaxNames bounds the distinct usernames a message's mentions resolve.
const MaxNames = 50

// Mentions are a message's structured mentions: the members it names, and
// whether it says @channel or @here. The same JSON is stored (messages.
// mentions), cached, and rendered in the message resource.
type Mentions struct {
	Users   []User `json:"users"`
	Channel bool   `json:"channel"`
	Here    bool   `json:"here"`
}

// User is a member a message names, with the username it was named by.
type User struct {
	ID       id.ID  `json:"id"`
	Username string `json:"username"`
}

// Names reports whether m names u.
func (m *Mentions) Names(u id.ID) bool {
	for _, x := range m.Users {
		if x.ID == u {
			return true
		}
	}
	return false
}

// Concerns reports whether m mentions u in any way: by name, @channel or
// @here (a mention count counts all three).
func (m *Mentions) Concerns(u id.ID) bool { return m.Channel || m.Here || m.Names(u) }

// Parsed is what a body's text says, before names are resolved.
type Parsed struct {
	Names   []string // lower case, distinct, in order of first use
	Channel bool
	Here    bool
}

// Empty reports whether the body mentions nothing.
func (p Parsed) Empty() bool { return len(p.Names) == 0 && !p.Channel && !p.Here }

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// Parse reads the mentions of body. A body without `@` costs one scan.
func Parse(body string) Parsed {
	var p Parsed
	for i := strings.IndexByte(body, '@'); i >= 0; {
		start := i + 1
		end := start
		for end < len(body) && nameChar(body[end]) {
			end++
		}
		if name := strings.TrimRight(body[start:end], "."); name != "" && (i == 0 || !nameChar(body[i-1])) {
			switch name = strings.ToLower(name); name {
			case "channel":
				p.Channel = true
			case "here":
				p.Here = true
			default:
				if len(name) >= 3 && len(name) <= 32 && len(p.Names) < MaxNames && !has(p.Names, name) {
					p.Names = append(p.Names, name)
				}
			}
		}
		next := strings.IndexByte(body[start:], '@')
		if next < 0 {
			break
		}
		i = start + next
	}
	return p
}

func has(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Resolve parses body and resolves its names to members of c: nil when it
// mentions nobody (no query unless it names someone).
func Resolve(ctx context.Context, q querier, c id.ID, body string) (*Mentions, error) {
	p := Parse(body)
	if p.Empty() {
		return nil, nil
	}
	m := &Mentions{Users: []User{}, Channel: p.Channel, Here: p.Here}
	if len(p.Names) > 0 {
		us, err := members(ctx, q, c, p.Names)
		if err != nil {
			return nil, fmt.Errorf("mention: resolve: %w", err)
		}
		m.Users = us
	}
	if len(m.Users) == 0 && !m.Channel && !m.Here {
		return nil, nil
	}
	return m, nil
}
