package server

import (
	"net"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/config"
	"github.com/stretchr/testify/require"
)

func TestBucketRefillsAtRateUpToBurst(t *testing.T) {
	t.Parallel()
	var b bucket
	for i := 0; i < 5; i++ {
		require.True(t, b.take(1000, 2, 5), "burst %d", i)
	}
	require.False(t, b.take(1000, 2, 5))
	require.False(t, b.take(1400, 2, 5), "0.8 token after 400 ms at 2/s")
	require.True(t, b.take(1600, 2, 5))
	require.True(t, b.take(60_000, 2, 5))
	for i := 0; i < 4; i++ {
		require.True(t, b.take(60_000, 2, 5), "refilled to burst, not beyond: %d", i)
	}
	require.False(t, b.take(60_000, 2, 5))
}

func TestAddrLimiterIsPerAddress(t *testing.T) {
	t.Parallel()
	l := newAddrLimiter(1, 2)
	a := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	b := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1}
	now := time.Now()
	require.True(t, l.allow(a, now))
	require.True(t, l.allow(&net.TCPAddr{IP: a.IP, Port: 2}, now), "ports share their address's bucket")
	require.False(t, l.allow(a, now))
	require.True(t, l.allow(b, now))
	require.True(t, l.allow(a, now.Add(1100*time.Millisecond)))
	// An idle address is forgotten once its bucket would be full again.
	l.allow(a, now.Add(2*time.Minute))
	require.Len(t, l.m, 1)
}

func TestTypingLimiterPerUserAndConversation(t *testing.T) {
	t.Parallel()
	l := newTypingLimiter(2 * time.Second)
	now := time.Now()
	require.True(t, l.allow(1, 7, now))
	require.False(t, l.allow(1, 7, now.Add(time.Second)))
	require.True(t, l.allow(2, 7, now), "another user")
	require.True(t, l.allow(1, 8, now), "another conversation")
	require.True(t, l.allow(1, 7, now.Add(2*time.Second)))
}

func TestDefaultSocketCapLeavesHeadroom(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(config.FromMap(map[string]string{}))
	require.NoError(t, err)
	limit := openFilesLimit()
	require.Equal(t, limit-cfg.FDHeadroom, cfg.MaxSockets)
	require.LessOrEqual(t, cfg.FDHeadroom, 500)
	if limit == 20_000 {
		require.Equal(t, 19_500, cfg.MaxSockets, "admits 19,000 sockets on this machine")
	}
}
