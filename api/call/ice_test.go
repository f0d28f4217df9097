package call

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/config"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/stretchr/testify/require"
)

func TestICEServersWithTURNCredentials(t *testing.T) {
	t.Parallel()
	cfg := LoadConfig(config.FromMap(map[string]string{
		"STUN_URLS":           "stun:stun.example.com:3478",
		"TURN_URLS":           "turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349",
		"TURN_SECRET":         "s3cret",
		"TURN_CREDENTIAL_TTL": "1h",
	}))
	now := time.Unix(1_800_000_000, 0)
	servers := cfg.ICE.Servers(id.ID(42), now)
	require.Len(t, servers, 2)
	require.Equal(t, []string{"stun:stun.example.com:3478"}, servers[0].URLs)
	require.Empty(t, servers[0].Username)

	turn := servers[1]
	require.Equal(t, []string{"turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"}, turn.URLs)
	exp, user, ok := strings.Cut(turn.Username, ":")
	require.True(t, ok)
	require.Equal(t, "42", user)
	require.Equal(t, strconv.FormatInt(now.Add(time.Hour).Unix(), 10), exp)
	// What coturn computes with use-auth-secret / static-auth-secret.
	m := hmac.New(sha1.New, []byte("s3cret"))
	m.Write([]byte(turn.Username))
	require.Equal(t, base64.StdEncoding.EncodeToString(m.Sum(nil)), turn.Credential)

	b, err := json.Marshal(servers)
	require.NoError(t, err)
	require.JSONEq(t, `[{"urls":["stun:stun.example.com:3478"]},
		{"urls":["turn:turn.example.com:3478?transport=udp","turns:turn.example.com:5349"],"username":"`+turn.Username+`","credential":"`+turn.Credential+`"}]`,
		string(b), "RTCIceServer's shape")
}

func TestICEServersUnconfiguredIsAnEmptyList(t *testing.T) {
	t.Parallel()
	e := config.FromMap(nil)
	cfg := LoadConfig(e)
	require.NoError(t, e.Err())
	b, err := json.Marshal(cfg.ICE.Servers(id.ID(1), time.Now()))
	require.NoError(t, err)
	require.Equal(t, "[]", string(b))
	require.Equal(t, DefaultRingTimeout, cfg.RingTimeout)
}

func TestICEConfigRefusesHalfATURNSetup(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"url without secret": {"TURN_URLS": "turn:t.example.com"},
		"secret without url": {"TURN_SECRET": "x"},
		"wrong scheme":       {"STUN_URLS": "http://stun.example.com"},
		"turn as stun":       {"TURN_URLS": "stun:t.example.com", "TURN_SECRET": "x"},
		"ring timeout":       {"CALL_RING_TIMEOUT": "soon"},
	} {
		e := config.FromMap(env)
		LoadConfig(e)
		require.Error(t, e.Err(), name)
	}
}
