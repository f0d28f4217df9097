package user_test

import (
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/stretchr/testify/require"
)

type found struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_USER_SEARCH": "3"})
	me := convtest.NewUser(t, s, "searcher")
	zed := convtest.NewUser(t, s, "zedd")
	convtest.NewUser(t, s, "zelda")
	convtest.NewUser(t, s, "amos")

	u := convtest.Get[found](t, s, me, "/users/"+zed.ID.String())
	require.Equal(t, zed.Name, u.Username)
	require.Empty(t, u.Email, "another user's email is never shown")
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/users/"+s.Deps.IDs.Next().String(), me.Token, nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/users/nope", me.Token, nil).Status)

	p := convtest.Get[convtest.Page[found]](t, s, me, "/users?query=ZE")
	require.Len(t, p.Items, 2, "prefix on username, case-insensitive")
	p = convtest.Get[convtest.Page[found]](t, s, me, "/users?query=the%20ze&limit=1")
	require.Len(t, p.Items, 1, "prefix on display name")
	require.NotNil(t, p.NextCursor)
	p = convtest.Get[convtest.Page[found]](t, s, me, "/users?query=the%20ze&limit=1&cursor="+*p.NextCursor)
	require.Len(t, p.Items, 1)
	require.Equal(t, http.StatusBadRequest, s.Do("GET", "/users?query=", me.Token, nil).Status)
	r := s.Do("GET", "/users?query=z", me.Token, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "searches are rate-limited")
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/users?query=z", "", nil).Status)
}
