package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// inputs lists, for every route, the query parameters and the JSON body
// fields it reads; path parameters come from the route's pattern. A route
// missing here fails TestEveryClientStringIsChecked, so a new route is
// held to the rule too.
var inputs = map[string]struct{ query, body []string }{
	"GET /healthz":                               {},
	"GET /readyz":                                {},
	"POST /auth/register":                        {body: []string{"email", "username", "password", "display_name"}},
	"POST /auth/login":                           {body: []string{"login", "password"}},
	"POST /auth/refresh":                         {body: []string{"refresh_token"}},
	"DELETE /auth/logout":                        {},
	"DELETE /auth/sessions":                      {},
	"GET /me":                                    {},
	"PUT /me/password":                           {body: []string{"current_password", "new_password"}},
	"PATCH /me":                                  {body: []string{"display_name", "avatar_id", "status", "time_zone"}},
	"GET /users/:id":                             {},
	"GET /users":                                 {query: []string{"query", "cursor", "limit"}},
	"POST /conversations":                        {body: []string{"kind", "name", "topic", "member_ids"}},
	"GET /conversations":                         {query: []string{"cursor", "limit"}},
	"GET /conversations/:id":                     {},
	"PATCH /conversations/:id":                   {body: []string{"name", "topic"}},
	"POST /conversations/:id/join":               {},
	"DELETE /conversations/:id/membership":       {},
	"GET /conversations/:id/members":             {query: []string{"cursor", "limit"}},
	"POST /conversations/:id/members":            {body: []string{"user_id", "role"}},
	"DELETE /conversations/:id/members/:user_id": {},
	"PATCH /conversations/:id/members/:user_id":  {body: []string{"role"}},
	"POST /conversations/:id/archive":            {},
	"DELETE /conversations/:id/archive":          {},
	"PUT /conversations/:id/notifications":       {body: []string{"level", "muted_until"}},
	"GET /conversations/:id/events":              {query: []string{"after_seq", "limit"}},
	"GET /channels":                              {query: []string{"query", "cursor", "limit"}},
	"POST /conversations/:id/messages":           {body: []string{"body", "parent_id", "client_msg_id", "attachment_ids"}},
	"POST /files":                                {body: []string{"name", "size", "content_type", "purpose"}},
	"PUT /files/:id/content":                     {},
	"POST /files/:id/complete":                   {},
	"GET /files/:id/url":                         {query: []string{"variant"}},
	"GET /files/:id/blob":                        {query: []string{"variant", "user", "exp", "sig"}},
	"GET /avatars/:id":                           {query: []string{"size"}},
	"GET /conversations/:id/messages":            {query: []string{"before", "after", "limit"}},
	"PATCH /messages/:id":                        {body: []string{"body"}},
	"DELETE /messages/:id":                       {},
	"GET /messages/:id/replies":                  {query: []string{"before", "after", "limit"}},
	"POST /messages/:id/reactions":               {body: []string{"emoji"}},
	"DELETE /messages/:id/reactions/:emoji":      {},
	"POST /messages/:id/pin":                     {},
	"DELETE /messages/:id/pin":                   {},
	"GET /conversations/:id/pins":                {query: []string{"cursor", "limit"}},
	"GET /me/saved":                              {query: []string{"cursor", "limit"}},
	"POST /me/saved/:message_id":                 {},
	"DELETE /me/saved/:message_id":               {},
	"GET /search/messages":                       {query: []string{"query", "conversation_id", "author_id", "since", "until", "cursor", "limit"}},
	"GET /me/blocks":                             {query: []string{"cursor", "limit"}},
	"POST /me/blocks/:user_id":                   {},
	"DELETE /me/blocks/:user_id":                 {},
	"POST /conversations/:id/read":               {body: []string{"message_id"}},
	"GET /calls/ice-servers":                     {},
	"POST /calls":                                {body: []string{"callee_id", "conversation_id", "media"}},
	"GET /calls":                                 {query: []string{"conversation_id", "before", "limit"}},
	"GET /calls/:id":                             {},
	"POST /calls/:id/ring":                       {},
	"POST /calls/:id/accept":                     {},
	"POST /calls/:id/decline":                    {},
	"POST /calls/:id/end":                        {},
}

// notText are values no parameter may carry: NUL, invalid UTF-8 (a stray
// continuation byte, a truncated sequence, an encoded surrogate, an
// overlong encoding).
var notText = []string{"\x00", "a\x00b", "\xff", "caf\xc3", "\xed\xa0\x80", "\xc0\xaf"}

// odd are text values a handler must answer with something better than a
// 5xx: wrong shapes, SQL and LIKE metacharacters, huge numbers, long text.
var odd = []string{"", "-1", "0", "1.5", "99999999999999999999999", "'", `%_\`, "a b", "\u2028", "🙂",
	"1/..", "null", strings.Repeat("x", 2000)}

// Every client string of every route — path parameters, query parameters,
// JSON strings — is checked at the HTTP layer: a value that is not text is
// 400 bad_request naming the parameter, and no value makes the api answer
// a 5xx or log an error. This walks the router's own table.
func TestEveryClientStringIsChecked(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{
		"RATE_LOGIN_PER_ADDR": "100000", "RATE_REGISTER_PER_ADDR": "100000", "RATE_USER_SEARCH": "100000",
		"RATE_CONVERSATIONS": "100000", "RATE_MESSAGES": "100000", "RATE_REACTIONS": "100000",
		"RATE_MESSAGE_SEARCH": "100000",
	})
	tok := signUp(t, s, "walker")
	param := regexp.MustCompile(`:[a-z_]+`)

	routes := s.Server.Router().Routes()
	var unlisted []string
	for _, rt := range routes {
		if _, ok := inputs[rt]; !ok {
			unlisted = append(unlisted, rt)
		}
	}
	sort.Strings(unlisted)
	require.Empty(t, unlisted, "routes missing from inputs: list the parameters they read")

	checked := 0
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		in := inputs[rt]
		// Path parameters, one at a time, the others a plausible id.
		names := param.FindAllString(pattern, -1)
		for _, name := range names {
			for _, bad := range notText {
				path := strings.ReplaceAll(pattern, name, url.PathEscape(bad))
				path = param.ReplaceAllString(path, "1")
				r := s.Do(method, path, tok, nil)
				requireRefused(t, r, rt+" path "+name, name[1:])
				checked++
			}
			for _, v := range odd {
				path := param.ReplaceAllString(strings.ReplaceAll(pattern, name, url.PathEscape(v)), "1")
				requireNo5xx(t, s.Do(method, path, tok, nil), rt+" path "+name+"="+strconv.Quote(v))
			}
		}
		path := param.ReplaceAllString(pattern, "1")
		for _, q := range in.query {
			for _, bad := range notText {
				r := s.Do(method, path+"?"+q+"="+url.QueryEscape(bad), tok, nil)
				requireRefused(t, r, rt+" query "+q, q)
				checked++
			}
			for _, v := range odd {
				requireNo5xx(t, s.Do(method, path+"?"+q+"="+url.QueryEscape(v), tok, nil), rt+" query "+q+"="+strconv.Quote(v))
			}
		}
		for _, f := range in.body {
			for _, bad := range notText {
				body := fmt.Sprintf(`{%q:"%s"}`, f, bad) // raw bytes: %q would escape them
				r := s.DoWith(method, path, tok, body, "application/json", nil)
				requireRefused(t, r, rt+" body "+f, f)
				checked++
			}
			for _, esc := range []string{`\u0000`, `a\u0000`, `\ud800`, `\udfff x`} {
				r := s.DoWith(method, path, tok, `{"`+f+`":"`+esc+`"}`, "application/json", nil)
				requireRefused(t, r, rt+" body "+f+" "+esc, f)
			}
			r := s.DoWith(method, path, tok, `{"`+f+`":"a","`+f+`":"b"}`, "application/json", nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s duplicate %s: %s", rt, f, r.Body)
			require.Equal(t, "bad_request", r.Code(), "%s duplicate %s", rt, f)
			for _, v := range odd {
				b := map[string]any{f: v}
				requireNo5xx(t, s.Do(method, path, tok, b), rt+" body "+f+"="+strconv.Quote(v))
			}
		}
	}
	require.Greater(t, checked, 300)
	require.NotContains(t, s.Log.String(), `"level":"ERROR"`)
}

// requireRefused checks r is 400 bad_request naming field.
func requireRefused(t *testing.T, r *apitest.Response, what, field string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", what, r.Body)
	require.Equal(t, "bad_request", r.Code(), "%s: %s", what, r.Body)
	require.Equal(t, field, r.Map(t)["field"], "%s: %s", what, r.Body)
}

func requireNo5xx(t *testing.T, r *apitest.Response, what string) {
	t.Helper()
	require.Less(t, r.Status, 500, "%s: %s", what, r.Body)
}

// signUp registers username and returns its access token.
func signUp(t *testing.T, s *apitest.Stack, username string) string {
	t.Helper()
	r := s.Do("POST", "/auth/register", "", map[string]string{
		"email": username + "@example.com", "username": username, "password": "long enough password",
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.Map(t)["token"].(string)
}
