package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/stretchr/testify/require"
)

// Behind a trusted load balancer (TRUSTED_PROXIES) each client is limited
// by the address X-Forwarded-For names, so one client's limit is not
// everyone's; from an untrusted peer the header is ignored, so a client
// cannot dodge its limit by writing one.
func TestPerAddressLimitsFollowForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	n := 0
	register := func(s *apitest.Stack, xff string) int {
		n++
		body := map[string]string{"email": fmt.Sprintf("u%d@example.com", n), "username": fmt.Sprintf("user%d", n),
			"password": "a long enough password"}
		return s.DoWith("POST", "/auth/register", "", body, "application/json",
			map[string]string{"X-Forwarded-For": xff}).Status
	}
	limits := map[string]string{"RATE_REGISTER_PER_ADDR": "1"}

	behindLB := apitest.Start(t, map[string]string{"RATE_REGISTER_PER_ADDR": "1", "TRUSTED_PROXIES": "127.0.0.0/8"})
	require.Equal(t, http.StatusCreated, register(behindLB, "198.51.100.1"))
	require.Equal(t, http.StatusTooManyRequests, register(behindLB, "198.51.100.1"), "the same client again")
	require.Equal(t, http.StatusCreated, register(behindLB, "198.51.100.2"), "another client behind the same proxy")
	require.Equal(t, http.StatusTooManyRequests, register(behindLB, "198.51.100.3, 198.51.100.2"),
		"an entry the client wrote itself is not believed")

	direct := apitest.Start(t, limits)
	require.Equal(t, http.StatusCreated, register(direct, "198.51.100.1"))
	require.Equal(t, http.StatusTooManyRequests, register(direct, "198.51.100.2"), "X-Forwarded-For from an untrusted peer means nothing")
}
