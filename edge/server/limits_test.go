package server

import (
	"net"
	"net/netip"
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
	l := newAddrLimiter(1, 2, 100)
	a := addrOf(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
	b := addrOf(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1})
	require.Equal(t, a, addrOf(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1).To16(), Port: 2}), "ports and v4-in-v6 share their address")
	now := time.Now()
	admit := func(a netip.Addr, now time.Time) int {
		st, why := l.admit(a, now)
		if st != nil {
			l.release(st)
		}
		return why
	}
	require.Equal(t, admitted, admit(a, now))
	require.Equal(t, admitted, admit(a, now))
	require.Equal(t, overRate, admit(a, now))
	require.Equal(t, admitted, admit(b, now))
	require.Equal(t, admitted, admit(a, now.Add(1100*time.Millisecond)))
	// An idle address is forgotten once its bucket would be full again.
	admit(a, now.Add(2*time.Minute))
	require.Len(t, l.m, 1)
}

// TestAddrLimiterCapsOpenSockets: an address holds at most maxOpen sockets
// at once; a closed one frees its place; an address with sockets open is
// never forgotten.
func TestAddrLimiterCapsOpenSockets(t *testing.T) {
	t.Parallel()
	l := newAddrLimiter(1000, 1000, 2)
	a := netip.MustParseAddr("192.0.2.1")
	now := time.Now()
	s1, why := l.admit(a, now)
	require.Equal(t, admitted, why)
	_, why = l.admit(a, now)
	require.Equal(t, admitted, why)
	_, why = l.admit(a, now)
	require.Equal(t, overCap, why)
	_, why = l.admit(netip.MustParseAddr("192.0.2.2"), now)
	require.Equal(t, admitted, why, "another address")
	l.release(s1)
	_, why = l.admit(a, now)
	require.Equal(t, admitted, why)
	l.admit(netip.MustParseAddr("192.0.2.3"), now.Add(2*time.Minute)) // sweeps
	require.Equal(t, int32(2), l.m[a].open)
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
	// One account or one address holds a small share of a node: issue 12
	// found one user able to hold all of it.
	require.Equal(t, 100, cfg.MaxSocketsPerUser)
	require.Equal(t, 1000, cfg.MaxSocketsPerAddr)
	if limit == 20_000 {
		require.Equal(t, 19_500, cfg.MaxSockets, "admits 19,000 sockets on this machine")
	}
}
