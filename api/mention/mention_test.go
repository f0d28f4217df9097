package mention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/api/mention"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// message is a message answer with its mentions.
type message struct {
	convtest.Message
	Mentions *mention.Mentions `json:"mentions"`
}

// view is the part of a conversation view these tests read.
type view struct {
	ID           id.ID   `json:"id"`
	UnreadCount  int     `json:"unread_count"`
	MentionCount int     `json:"mention_count"`
	NotifyLevel  *string `json:"notify_level"`
	MutedUntil   *string `json:"muted_until"`
	ArchivedAt   *string `json:"archived_at"`
}

func send(t *testing.T, s *apitest.Stack, u convtest.User, c id.ID, body string, parent ...id.ID) message {
	t.Helper()
	req := map[string]any{"body": body}
	if len(parent) > 0 {
		req["parent_id"] = parent[0].String()
	}
	r := s.Do("POST", "/conversations/"+c.String()+"/messages", u.Token, req)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var m message
	r.JSON(t, &m)
	return m
}

// listed is c as u's conversation list shows it.
func listed(t *testing.T, s *apitest.Stack, u convtest.User, c id.ID) view {
	t.Helper()
	for _, v := range convtest.Get[convtest.Page[view]](t, s, u, "/conversations?limit=100").Items {
		if v.ID == c {
			return v
		}
	}
	t.Fatalf("%s is not in %s's list", c, u.Name)
	return view{}
}

// notifications are the notification.created events on u's topic.
func notifications(t *testing.T, s *apitest.Stack, u convtest.User) []mention.JSON {
	t.Helper()
	var out []mention.JSON
	for _, e := range convtest.Stream(t, s, rkey.UserTopic(u.ID)) {
		if e.Env.Type != event.NotificationCreated {
			continue
		}
		require.Zero(t, e.Env.Seq, "a notification is in no log")
		var n mention.JSON
		require.NoError(t, json.Unmarshal(e.Env.Data, &n))
		require.Equal(t, e.Env.ConversationID, n.ConversationID)
		out = append(out, n)
	}
	return out
}

// reasons lists u's notifications as "reason:body".
func reasons(t *testing.T, s *apitest.Stack, u convtest.User) []string {
	t.Helper()
	out := []string{}
	for _, n := range notifications(t, s, u) {
		var m message
		require.NoError(t, json.Unmarshal(n.Message, &m))
		out = append(out, n.Reason+":"+*m.Body)
	}
	return out
}

func names(m *mention.Mentions) []string {
	out := []string{}
	for _, u := range m.Users {
		out = append(out, u.Username)
	}
	return out
}

// Mentions are parsed on send into structured mentions of members (an
// outsider or an unknown name stays text), carried by the answer, the
// timeline and message.created, re-parsed on edit, and counted per reader
// as mention_count, from the cached preview and, past it, from Postgres.
func TestMentionsAreStoredRenderedAndCounted(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"),
		convtest.NewUser(t, s, "carl"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob, carl)

	plain := send(t, s, ann, g.ID, "no mentions, mail "+bob.Name+"@example.com")
	require.Nil(t, plain.Mentions)
	m := send(t, s, ann, g.ID, fmt.Sprintf("hi @%s and @%s and @nobody", strings.ToUpper(bob.Name), eve.Name))
	require.NotNil(t, m.Mentions)
	require.Equal(t, []string{bob.Name}, names(m.Mentions), "only members are mentioned")
	require.Equal(t, bob.ID, m.Mentions.Users[0].ID)
	require.False(t, m.Mentions.Channel)

	page := convtest.Get[convtest.Page[message]](t, s, bob, "/conversations/"+g.ID.String()+"/messages")
	require.Equal(t, []string{bob.Name}, names(page.Items[0].Mentions))
	require.Nil(t, page.Items[1].Mentions)
	var created *mention.Mentions
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		if e.Env.Type == event.MessageCreated {
			var x message
			require.NoError(t, json.Unmarshal(e.Env.Data, &x))
			if x.ID == m.ID {
				created = x.Mentions
			}
		}
	}
	require.NotNil(t, created, "message.created carries the mentions")
	require.Equal(t, []string{bob.Name}, names(created))

	require.Equal(t, 1, listed(t, s, bob, g.ID).MentionCount)
	require.Equal(t, 2, listed(t, s, bob, g.ID).UnreadCount)
	require.Equal(t, 0, listed(t, s, carl, g.ID).MentionCount)
	require.Equal(t, 0, listed(t, s, ann, g.ID).MentionCount, "one's own mentions do not count")

	all := send(t, s, ann, g.ID, "@channel standup")
	require.True(t, all.Mentions.Channel)
	require.Empty(t, all.Mentions.Users)
	reply := send(t, s, carl, g.ID, "@here and @"+bob.Name, all.ID)
	require.True(t, reply.Mentions.Here)
	require.Equal(t, 3, listed(t, s, bob, g.ID).MentionCount, "named, @channel, and a reply naming them")
	require.Equal(t, 1, listed(t, s, carl, g.ID).MentionCount, "@channel; the @here is carl's own")
	require.Equal(t, 1, listed(t, s, ann, g.ID).MentionCount, "carl's @here")

	// An edit re-parses; the count follows.
	r := s.Do("PATCH", "/messages/"+m.ID.String(), ann.Token, map[string]any{"body": "hi all"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var edited message
	r.JSON(t, &edited)
	require.Nil(t, edited.Mentions)
	require.Equal(t, 2, listed(t, s, bob, g.ID).MentionCount)
	// A deleted message's mentions go with it.
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/messages/"+all.ID.String(), ann.Token, nil).Status)
	require.Equal(t, 1, listed(t, s, bob, g.ID).MentionCount)
	// Reading moves the marker past them.
	r = s.Do("POST", "/conversations/"+g.ID.String()+"/read", bob.Token, map[string]any{"message_id": reply.ID.String()})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, float64(0), r.Map(t)["mention_count"])
	require.Equal(t, 0, listed(t, s, bob, g.ID).MentionCount)

	// Past the preview's 100 newest mentions the count comes from
	// Postgres, and agrees.
	for i := range 105 {
		send(t, s, carl, g.ID, fmt.Sprintf("@%s number %d", bob.Name, i))
	}
	require.Equal(t, 105, listed(t, s, bob, g.ID).MentionCount)
	v := convtest.Get[view](t, s, bob, "/conversations/"+g.ID.String())
	require.Equal(t, 105, v.MentionCount)
}

// online marks u online as an edge would (a presence hash with a node's
// socket count).
func online(t *testing.T, s *apitest.Stack, u convtest.User) {
	t.Helper()
	rdb := s.Deps.Redis
	require.NoError(t, rdb.Do(context.Background(),
		rdb.B().Hset().Key(s.Deps.Keys.Presence(u.ID)).FieldValue().FieldValue("edge-test", "1").Build()).Error())
}

func setLevel(t *testing.T, s *apitest.Stack, u convtest.User, c id.ID, level string, muted *time.Time) {
	t.Helper()
	body := map[string]any{"level": level}
	if muted != nil {
		body["muted_until"] = muted.Format(time.RFC3339Nano)
	}
	r := s.Do("PUT", "/conversations/"+c.String()+"/notifications", u.Token, body)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
}

// A send notifies, on their own topics, the people it concerns, once each,
// for the strongest reason, never its author, as their levels and mutes
// allow; a message that concerns nobody notifies nobody.
func TestNotificationsFollowReasonsLevelsAndMutes(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl, dan := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"),
		convtest.NewUser(t, s, "carl"), convtest.NewUser(t, s, "dan")
	g := convtest.Create(t, s, ann, "group", "g", bob, carl, dan)

	send(t, s, ann, g.ID, "nothing for anyone")
	root := send(t, s, bob, g.ID, "a thread by bob")
	send(t, s, ann, g.ID, "@"+bob.Name+" look", root.ID) // mention beats reply
	send(t, s, carl, g.ID, "a reply", root.ID)           // reply
	send(t, s, bob, g.ID, "bob's own reply", root.ID)    // nobody: the root is bob's own
	send(t, s, ann, g.ID, "@channel @"+carl.Name+" all hands")
	online(t, s, dan)
	send(t, s, ann, g.ID, "@here anyone?") // dan only: bob and carl are offline
	require.Equal(t, []string{"mention:@" + bob.Name + " look", "reply:a reply", "channel:@channel @" + carl.Name + " all hands"},
		reasons(t, s, bob))
	require.Equal(t, []string{"mention:@channel @" + carl.Name + " all hands"}, reasons(t, s, carl))
	require.Equal(t, []string{"channel:@channel @" + carl.Name + " all hands", "here:@here anyone?"}, reasons(t, s, dan))
	require.Equal(t, []string{}, reasons(t, s, ann), "never the author")

	n := notifications(t, s, bob)[0]
	require.Equal(t, g.ID, n.ConversationID)
	require.NotZero(t, n.ID)
	var m message
	require.NoError(t, json.Unmarshal(n.Message, &m))
	require.Equal(t, []string{bob.Name}, names(m.Mentions), "the message as message.created carries it")

	// Levels: mentions drops replies; none drops everything; a mute
	// silences until it ends.
	setLevel(t, s, bob, g.ID, "mentions", nil)
	send(t, s, carl, g.ID, "another reply", root.ID)
	send(t, s, carl, g.ID, "@"+bob.Name+" still?")
	setLevel(t, s, carl, g.ID, "none", nil)
	send(t, s, ann, g.ID, "@"+carl.Name+" hello?")
	soon := time.Now().Add(time.Hour)
	setLevel(t, s, dan, g.ID, "all", &soon)
	send(t, s, ann, g.ID, "@"+dan.Name+" muted")
	past := time.Now().Add(-time.Minute)
	setLevel(t, s, dan, g.ID, "all", &past)
	send(t, s, ann, g.ID, "@"+dan.Name+" mute over")
	require.Equal(t, "mention:@"+bob.Name+" still?", last(reasons(t, s, bob)), "no reply at level mentions")
	require.Len(t, reasons(t, s, bob), 4)
	require.Len(t, reasons(t, s, carl), 1, "level none")
	require.Equal(t, []string{"channel:@channel @" + carl.Name + " all hands", "here:@here anyone?", "mention:@" + dan.Name + " mute over"},
		reasons(t, s, dan))

	// A person who blocks the author hears nothing of them.
	require.Equal(t, http.StatusCreated, s.Do("POST", "/me/blocks/"+ann.ID.String(), bob.Token, nil).Status)
	send(t, s, ann, g.ID, "@"+bob.Name+" are you there?")
	require.Len(t, reasons(t, s, bob), 4, "bob blocks ann")

	// Every message of a DM notifies the other person.
	dm := convtest.Create(t, s, ann, "dm", "", dan)
	send(t, s, ann, dm.ID, "psst")
	require.Equal(t, "dm:psst", last(reasons(t, s, dan)))
	require.Equal(t, []string{}, reasons(t, s, ann))
}

func last(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[len(xs)-1]
}

// Only a member sets their own notification settings: a group's outsider
// finds nothing, a channel's non-member is forbidden, bad input is 400;
// the caller's view shows the settings, nobody else's changes.
func TestNotificationSettingsAreAMembersOwn(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob)
	ch := convtest.Create(t, s, ann, "channel", "general-"+ann.Name)
	put := func(u convtest.User, c id.ID, body any) *apitest.Response {
		return s.Do("PUT", "/conversations/"+c.String()+"/notifications", u.Token, body)
	}
	require.Equal(t, http.StatusNotFound, put(eve, g.ID, map[string]any{"level": "none"}).Status)
	r := put(eve, ch.ID, map[string]any{"level": "none"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusNotFound, put(bob, s.Deps.IDs.Next(), map[string]any{"level": "none"}).Status)
	require.Equal(t, "validation_failed", put(bob, g.ID, map[string]any{"level": "loud"}).Code())
	require.Equal(t, "validation_failed", put(bob, g.ID, map[string]any{}).Code())
	require.Equal(t, http.StatusBadRequest, put(bob, g.ID, map[string]any{"level": "all", "muted_until": "tomorrow"}).Status)

	v := convtest.Get[view](t, s, bob, "/conversations/"+g.ID.String())
	require.Equal(t, "all", *v.NotifyLevel, "the default")
	require.Nil(t, v.MutedUntil)
	until := time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	r = put(bob, g.ID, map[string]any{"level": "mentions", "muted_until": until.Format(time.RFC3339Nano)})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, fmt.Sprintf(`{"conversation_id":"%s","level":"mentions","muted_until":"2030-01-02T03:04:05.678Z"}`, g.ID), string(r.Body))
	v = listed(t, s, bob, g.ID)
	require.Equal(t, "mentions", *v.NotifyLevel)
	require.Equal(t, "2030-01-02T03:04:05.678Z", *v.MutedUntil)
	require.Equal(t, "all", *listed(t, s, ann, g.ID).NotifyLevel, "another member's are theirs")
	outside := convtest.Get[view](t, s, eve, "/conversations/"+ch.ID.String())
	require.Nil(t, outside.NotifyLevel, "a non-member has no settings")
	require.Equal(t, http.StatusOK, put(bob, g.ID, map[string]any{"level": "all", "muted_until": nil}).Status)
	require.Nil(t, listed(t, s, bob, g.ID).MutedUntil)
}
