package conversation_test

import (
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/stretchr/testify/require"
)

func TestConversationCreationIsRateLimited(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, map[string]string{"RATE_CONVERSATIONS": "2"})
	ann := convtest.NewUser(t, s, "ann")
	convtest.Create(t, s, ann, "group", "one")
	convtest.Create(t, s, ann, "group", "two")
	r := s.Do("POST", "/conversations", ann.Token, map[string]any{"kind": "group", "name": "three"})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.NotEmpty(t, r.Header.Get("Retry-After"))
}
