package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/stretchr/testify/require"
)

// revokedEvents reads every session.revoked published on user's topic.
func revokedEvents(t *testing.T, s *apitest.Stack, user id.ID) []event.SessionRevokedData {
	t.Helper()
	rdb, keys := s.Deps.Streams, s.Deps.Keys
	topic := rkey.UserTopic(user)
	entries, err := rdb.Do(context.Background(),
		rdb.B().Xrange().Key(keys.Stream(keys.ShardOf(topic))).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	var out []event.SessionRevokedData
	for _, e := range entries {
		en, err := event.DecodeEntry(e.FieldValues)
		require.NoError(t, err)
		if en.Topic != topic {
			continue
		}
		var env event.Envelope
		require.NoError(t, json.Unmarshal(en.Envelope, &env))
		require.Equal(t, event.SessionRevoked, env.Type)
		require.Zero(t, env.Seq, "user-topic events carry no seq")
		var d event.SessionRevokedData
		require.NoError(t, json.Unmarshal(env.Data, &d))
		out = append(out, d)
	}
	return out
}

func TestLogoutPublishesSessionRevoked(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "dora", "dora password")
	uid, sid := a.userID(t), a.claims(t, s).SID
	require.Empty(t, revokedEvents(t, s, uid))

	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/auth/logout", a.Token, nil).Status)
	require.Equal(t, []event.SessionRevokedData{{UserID: uid, SID: sid}}, revokedEvents(t, s, uid))

	// The denylist entry lasts until the session's last access token
	// expires (plus the clock-skew margin), not forever.
	ttl, err := s.Deps.Redis.Do(context.Background(), s.Deps.Redis.B().Pttl().Key(s.Deps.Keys.Denied(sid)).Build()).AsInt64()
	require.NoError(t, err)
	require.Greater(t, ttl, int64(14*60*1000))
	require.LessOrEqual(t, ttl, int64(16*60*1000))

	r := refresh(s, a.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, r.Status, "logout ends refresh too: %s", r.Body)
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "erin", "erin password")
	sid := a.claims(t, s).SID

	r := refresh(s, a.RefreshToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var b session
	r.JSON(t, &b)
	require.Equal(t, "Bearer "+b.Token, r.Header.Get("Authorization"))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	require.NotEqual(t, a.RefreshToken, b.RefreshToken)
	require.Equal(t, sid, b.claims(t, s).SID, "a refresh stays in its session")
	require.Equal(t, a.User.ID, b.User.ID)
	require.Equal(t, http.StatusOK, s.Do("GET", "/me", b.Token, nil).Status)

	r = refresh(s, b.RefreshToken)
	require.Equal(t, http.StatusOK, r.Status, "the successor works once: %s", r.Body)
	// Only the hash is stored.
	require.Zero(t, count(t, s, "SELECT count(*) FROM refresh_tokens WHERE hash = convert_to($1, 'UTF8')", b.RefreshToken))
	require.Equal(t, 3, count(t, s, "SELECT count(*) FROM refresh_tokens WHERE session_id = $1", sid))
}

// Two clients racing with the same refresh token, with the reuse grace
// off: one wins, the other is reuse, and reuse ends the session (the
// winner's new tokens too). With the grace on, see TestConcurrentRefresh-
// WithinGrace.
func TestConcurrentRefreshIsReuse(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"REFRESH_REUSE_GRACE": "0s"})
	a := register(t, s, "finn", "finn password")
	var wg sync.WaitGroup
	res := make([]int, 2)
	codes := make([]string, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := refresh(s, a.RefreshToken)
			res[i], codes[i] = r.Status, r.Code()
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{200, 401}, res)
	require.Contains(t, codes, "refresh_token_reused")
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM auth_sessions WHERE revoked_reason = 'refresh_reused'"))
	require.Len(t, revokedEvents(t, s, a.userID(t)), 1)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/me", a.Token, nil).Status)
}

func TestLogoutEverywhere(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "gwen", "gwen password")
	b := login(t, s, "gwen", "gwen password")
	c := login(t, s, "gwen@example.com", "gwen password")
	other := register(t, s, "hugo", "hugo password")

	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/auth/sessions", b.Token, nil).Status)
	for _, x := range []session{a, b, c} {
		require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/me", x.Token, nil).Status)
		require.Equal(t, http.StatusUnauthorized, refresh(s, x.RefreshToken).Status)
	}
	ev := revokedEvents(t, s, a.userID(t))
	require.Len(t, ev, 3, "one session.revoked per session")
	sids := []id.ID{ev[0].SID, ev[1].SID, ev[2].SID}
	require.ElementsMatch(t, []id.ID{a.claims(t, s).SID, b.claims(t, s).SID, c.claims(t, s).SID}, sids)

	require.Equal(t, http.StatusOK, s.Do("GET", "/me", other.Token, nil).Status, "another user is untouched")
	require.Empty(t, revokedEvents(t, s, other.userID(t)))
	login(t, s, "gwen", "gwen password")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, nil)
	a := register(t, s, "iris", "iris password")
	b := login(t, s, "iris", "iris password")

	r := s.Do("PUT", "/me/password", a.Token, map[string]string{"current_password": "iris password", "new_password": "a new password"})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)

	require.Equal(t, http.StatusOK, s.Do("GET", "/me", a.Token, nil).Status, "the session that changed it stays")
	require.Equal(t, http.StatusOK, refresh(s, a.RefreshToken).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/me", b.Token, nil).Status, "every other session ends")
	require.Equal(t, http.StatusUnauthorized, refresh(s, b.RefreshToken).Status)
	ev := revokedEvents(t, s, a.userID(t))
	require.Equal(t, []event.SessionRevokedData{{UserID: a.userID(t), SID: b.claims(t, s).SID}}, ev)

	r = s.Do("POST", "/auth/login", "", map[string]string{"login": "iris", "password": "iris password"})
	require.Equal(t, http.StatusUnauthorized, r.Status, "the old password no longer works")
	login(t, s, "iris", "a new password")
}

func TestRegistrationsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_REGISTER_PER_ADDR": "2"})
	register(t, s, "jack", "jack password")
	register(t, s, "kate", "kate password")
	r := s.Do("POST", "/auth/register", "", map[string]string{"email": "liam@example.com", "username": "liam", "password": "liam password"})
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, "rate_limited", r.Code())
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM users"))
}

func TestLoginsLimitedPerAddress(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_LOGIN_PER_ADDR": "2"})
	register(t, s, "mona", "mona password")
	register(t, s, "nick", "nick password")
	login(t, s, "mona", "mona password")
	login(t, s, "nick", "nick password")
	r := s.Do("POST", "/auth/login", "", map[string]string{"login": "mona", "password": "mona password"})
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, 4, count(t, s, "SELECT count(*) FROM auth_sessions"), "two registrations and two logins; the throttled one made none")
}

// A session unused for REFRESH_TOKEN_TTL is over: its refresh token no
// longer works (sign in again), and refreshing extends the deadline.
func TestRefreshOfAnExpiredSession(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"REFRESH_TOKEN_TTL": "1h"})
	a := register(t, s, "olga", "olga password")
	b := login(t, s, "olga", "olga password")
	sidA, sidB := a.claims(t, s).SID, b.claims(t, s).SID
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM auth_sessions WHERE id = $1 AND expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes'", sidA))

	require.Equal(t, 1, count(t, s, "WITH aged AS (UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE id = $1 RETURNING 1) SELECT count(*) FROM aged", sidA))
	r := refresh(s, a.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	require.Equal(t, "unauthorized", r.Code())

	require.Equal(t, 1, count(t, s, "WITH aged AS (UPDATE auth_sessions SET expires_at = now() + interval '1 minute' WHERE id = $1 RETURNING 1) SELECT count(*) FROM aged", sidB))
	r = refresh(s, b.RefreshToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM auth_sessions WHERE id = $1 AND expires_at > now() + interval '59 minutes'", sidB),
		"a refresh moves the session's deadline forward")
}
