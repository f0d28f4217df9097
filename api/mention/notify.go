package mention

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
)

// Reasons of a notification, strongest first: a member concerned for
// several is notified once, for the first.
const (
	ReasonMention = "mention"
	ReasonDM      = "dm"
	ReasonReply   = "reply"
	ReasonChannel = "channel"
	ReasonHere    = "here"
)

// Levels of a member's notification settings.
const (
	LevelAll      = "all"
	LevelMentions = "mentions"
	LevelNone     = "none"
)

// JSON is the data of notification.created: why, where, and the message as
// its events render it. id is drawn for the notification, so a client seeing
// it twice (a stream replayed) shows it once.
type JSON struct {
	ID             id.ID           `json:"id"`
	Reason         string          `json:"reason"`
	ConversationID id.ID           `json:"conversation_id"`
	Message        json.RawMessage `json:"message"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Delivery is a committed message and what its notifications depend on.
type Delivery struct {
	Conversation id.ID
	Author       id.ID
	Mentions     *Mentions
	// DMUsers are the DM's two people when the conversation is a DM.
	DMUsers []id.ID
	// ParentAuthor wrote the thread root the message replies to (0 for a
	// top-level message).
	ParentAuthor id.ID
	// Data is the message as events render it.
	Data any
}

// Quiet reports whether d can notify nobody, decided without any query.
func (d Delivery) Quiet() bool {
	return d.Mentions == nil && len(d.DMUsers) == 0 && (d.ParentAuthor == 0 || d.ParentAuthor == d.Author)
}

// reason is why d concerns u ("" when it does not), before levels.
func (d Delivery) reason(u id.ID) string {
	switch {
	case d.Mentions != nil && d.Mentions.Names(u):
		return ReasonMention
	case len(d.DMUsers) > 0:
		return ReasonDM
	case d.ParentAuthor == u:
		return ReasonReply
	case d.Mentions != nil && d.Mentions.Channel:
		return ReasonChannel
	case d.Mentions != nil && d.Mentions.Here:
		return ReasonHere
	}
	return ""
}

// allows reports whether a member at level is notified for reason.
func allows(level, reason string) bool {
	switch level {
	case LevelAll:
		return true
	case LevelMentions:
		return reason != ReasonReply
	}
	return false
}

// Notifier sends notification.created to the user topics a message
// concerns.
type Notifier struct {
	db     *pgxpool.Pool
	rdb    rueidis.Client // presence, for @here
	keys   rkey.Space
	events *event.Appender
	ids    *id.Generator
	now    func() time.Time
	log    *slog.Logger
}

// NewNotifier returns a Notifier reading members from db and presence from
// rdb, appending with events.
func NewNotifier(db *pgxpool.Pool, rdb rueidis.Client, keys rkey.Space, events *event.Appender,
	ids *id.Generator, now func() time.Time, log *slog.Logger) *Notifier {
	return &Notifier{db: db, rdb: rdb, keys: keys, events: events, ids: ids, now: now, log: log}
}

// appendBatch bounds the XADDs of one pipeline (an @channel of a large
// channel).
const appendBatch = 500

// Notify sends d's notifications, after d's commit, and returns how many
// it sent. It reads the members concerned with their settings (one query),
// and, for @here, who of them is online (one pipeline), then appends one
// event per recipient to their user topic. A failure leaves the message as
// it is (committed): notifications are best effort, the mention count
// is not.
func (n *Notifier) Notify(ctx context.Context, d Delivery) (int, error) {
	if d.Quiet() {
		return 0, nil
	}
	all := d.Mentions != nil && (d.Mentions.Channel || d.Mentions.Here)
	var users []int64
	if !all {
		if d.Mentions != nil {
			for _, u := range d.Mentions.Users {
				users = append(users, int64(u.ID))
			}
		}
		for _, u := range d.DMUsers {
			users = append(users, int64(u))
		}
		if d.ParentAuthor != 0 {
			users = append(users, int64(d.ParentAuthor))
		}
	}
	now := n.now()
	rs, err := recipients(ctx, n.db, d.Conversation, d.Author, all, users, now)
	if err != nil {
		return 0, fmt.Errorf("mention: recipients: %w", err)
	}
	type target struct {
		user   id.ID
		reason string
	}
	var out, here []target
	for _, r := range rs {
		reason := d.reason(r.user)
		if reason == "" || !allows(r.level, reason) {
			continue
		}
		if reason == ReasonHere {
			here = append(here, target{r.user, reason})
		} else {
			out = append(out, target{r.user, reason})
		}
	}
	if len(here) > 0 {
		cmds := make(rueidis.Commands, len(here))
		for i, t := range here {
			cmds[i] = n.rdb.B().Exists().Key(n.keys.Presence(t.user)).Build()
		}
		for i, res := range n.rdb.DoMulti(ctx, cmds...) {
			if online, err := res.AsInt64(); err != nil {
				return 0, fmt.Errorf("mention: presence for @here: %w", err)
			} else if online == 1 {
				out = append(out, here[i])
			}
		}
	}
	if len(out) == 0 {
		return 0, nil
	}
	msg, err := json.Marshal(d.Data)
	if err != nil {
		return 0, fmt.Errorf("mention: encode message: %w", err)
	}
	at := now.UTC().Truncate(time.Millisecond)
	sent := 0
	for start := 0; start < len(out); start += appendBatch {
		part := out[start:min(start+appendBatch, len(out))]
		entries := make([]event.Entry, len(part))
		for i, t := range part {
			data, err := json.Marshal(JSON{ID: n.ids.Next(), Reason: t.reason, ConversationID: d.Conversation, Message: msg, CreatedAt: at})
			if err != nil {
				return sent, fmt.Errorf("mention: encode notification: %w", err)
			}
			env, err := event.Encode(event.Envelope{Type: event.NotificationCreated, ConversationID: d.Conversation, At: at, Data: data})
			if err != nil {
				return sent, fmt.Errorf("mention: encode notification: %w", err)
			}
			entries[i] = event.Entry{Topic: rkey.UserTopic(t.user), Envelope: env}
		}
		k, err := n.events.AppendAll(ctx, entries)
		sent += k
		if err != nil {
			return sent, fmt.Errorf("mention: %w", err)
		}
	}
	return sent, nil
}

// After runs Notify for a send that has committed and logs what failed:
// the send's answer never waits on a failure here.
func (n *Notifier) After(ctx context.Context, d Delivery) {
	if d.Quiet() {
		return
	}
	if _, err := n.Notify(context.WithoutCancel(ctx), d); err != nil {
		n.log.WarnContext(ctx, "notifications not sent", "conversation_id", d.Conversation.String(), "err", err)
	}
}
