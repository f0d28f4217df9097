package conversation_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// The rules of roles (CanChangeRole): only the owner changes roles; an
// admin demotes nobody, the owner least of all; the owner hands ownership
// over, becoming an admin, and leaves only last. Each change is a
// member.updated event; a group's outsiders find nothing.
func TestRolesAndOwnership(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	ann, bob, carl, eve := convtest.NewUser(t, s, "ann"), convtest.NewUser(t, s, "bob"),
		convtest.NewUser(t, s, "carl"), convtest.NewUser(t, s, "eve")
	g := convtest.Create(t, s, ann, "group", "g", bob, carl)
	role := func(by convtest.User, who convtest.User, to string) *apitest.Response {
		return s.Do("PATCH", path(g.ID, "/members/", who.ID.String()), by.Token, map[string]any{"role": to})
	}
	roleOf := func(u convtest.User) string {
		return convtest.Get[convtest.Conversation](t, s, u, path(g.ID)).Role
	}

	require.Equal(t, http.StatusForbidden, role(bob, carl, "admin").Status, "a member changes no roles")
	r := role(ann, bob, "admin")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var m member
	r.JSON(t, &m)
	require.Equal(t, member{UserID: bob.ID, Role: "admin"}, member{UserID: m.UserID, Role: m.Role})
	require.Equal(t, "admin", roleOf(bob), "the caller's view follows at once")
	require.Equal(t, http.StatusOK, role(ann, bob, "admin").Status, "the same role again is a no-op")
	require.Equal(t, http.StatusForbidden, role(bob, ann, "member").Status, "an admin cannot demote the owner")
	require.Equal(t, http.StatusForbidden, role(bob, carl, "admin").Status, "an admin changes no roles")
	require.Equal(t, http.StatusForbidden, role(bob, bob, "owner").Status, "only the owner hands ownership over")
	require.Equal(t, http.StatusForbidden, role(ann, ann, "member").Status, "the owner's own role changes only by a handover")
	require.Equal(t, "validation_failed", role(ann, carl, "king").Code())
	require.Equal(t, http.StatusNotFound, role(ann, eve, "admin").Status, "not a member")
	require.Equal(t, http.StatusNotFound, role(eve, carl, "admin").Status, "a group does not exist for outsiders")

	// The owner leaves last.
	r = s.Do("DELETE", path(g.ID, "/membership"), ann.Token, nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = role(ann, carl, "owner")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "owner", roleOf(carl))
	require.Equal(t, "admin", roleOf(ann), "the old owner is an admin")
	require.Equal(t, http.StatusForbidden, role(ann, bob, "member").Status, "and changes no roles any more")
	require.Equal(t, http.StatusOK, role(carl, bob, "member").Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(g.ID, "/membership"), ann.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(g.ID, "/membership"), bob.Token, nil).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", path(g.ID, "/membership"), carl.Token, nil).Status, "the owner leaves last")

	var updates []string
	for _, e := range convtest.Stream(t, s, rkey.ConversationTopic(g.ID)) {
		if e.Env.Type == event.MemberUpdated {
			require.NotZero(t, e.Env.Seq)
			var mm member
			require.NoError(t, json.Unmarshal(e.Env.Data, &mm))
			updates = append(updates, mm.UserID.String()+":"+mm.Role)
		}
	}
	require.Equal(t, []string{bob.ID.String() + ":admin", carl.ID.String() + ":owner", ann.ID.String() + ":admin",
		bob.ID.String() + ":member"}, updates)

	dm := convtest.Create(t, s, ann, "dm", "", bob)
	r = s.Do("PATCH", path(dm.ID, "/members/", bob.ID.String()), ann.Token, map[string]any{"role": "admin"})
	require.Equal(t, http.StatusForbidden, r.Status, "a DM has no roles to change")
}
