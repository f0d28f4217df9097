package clientaddr

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseProxies(t *testing.T) {
	t.Parallel()
	p, err := ParseProxies([]string{" 10.0.0.0/8", "192.0.2.7", "fd00::/8", "", "172.16.5.9/12"})
	require.NoError(t, err)
	for _, a := range []string{"10.1.2.3", "192.0.2.7", "::ffff:192.0.2.7", "fd00::1", "172.31.0.1"} {
		require.True(t, p.Trusts(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"11.0.0.1", "192.0.2.8", "fe80::1", "172.32.0.1"} {
		require.False(t, p.Trusts(netip.MustParseAddr(a)), a)
	}
	_, err = ParseProxies([]string{"10.0.0.0/8", "proxy.internal"})
	require.ErrorContains(t, err, `"proxy.internal"`)
	_, err = ParseProxies([]string{"10.0.0.0/33"})
	require.Error(t, err)
	empty, err := ParseProxies(nil)
	require.NoError(t, err)
	require.True(t, empty.Empty())
}

func TestClient(t *testing.T) {
	t.Parallel()
	p, err := ParseProxies([]string{"10.0.0.0/8", "2001:db8:1::/48"})
	require.NoError(t, err)
	cases := []struct{ name, peer, xff, want string }{
		{"untrusted peer: header ignored", "203.0.113.9", "198.51.100.1", "203.0.113.9"},
		{"trusted peer without header", "10.0.0.1", "", "10.0.0.1"},
		{"one trusted hop", "10.0.0.1", "198.51.100.1", "198.51.100.1"},
		{"spoofed entries left of the real client are not believed", "10.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.1", "1.2.3.4, 198.51.100.1, 10.9.9.9, 10.8.8.8", "198.51.100.1"},
		{"every hop trusted: the leftmost", "10.0.0.1", "10.2.2.2, 10.3.3.3", "10.2.2.2"},
		{"garbage ends the walk at the proxy that passed it", "10.0.0.1", "198.51.100.1, unknown", "10.0.0.1"},
		{"garbage behind a real client is never reached", "10.0.0.1", "evil, 198.51.100.1", "198.51.100.1"},
		{"ports and brackets", "10.0.0.1", "[2001:db8::7]:443, 10.1.1.1:8080", "2001:db8::7"},
		{"mapped v4 peer", "::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"},
		{"v6 proxy", "2001:db8:1::5", "198.51.100.1", "198.51.100.1"},
		{"trailing commas and blanks", "10.0.0.1", " 198.51.100.1 ,, ", "198.51.100.1"},
	}
	for _, c := range cases {
		got := p.Client(netip.MustParseAddr(c.peer), c.xff)
		require.Equal(t, c.want, got.String(), c.name)
	}
	var none Proxies
	require.Equal(t, "10.0.0.1", none.Client(netip.MustParseAddr("10.0.0.1"), "198.51.100.1").String(),
		"no trusted proxies: the header means nothing")
}

func FuzzClient(f *testing.F) {
	p, _ := ParseProxies([]string{"10.0.0.0/8"})
	f.Add("10.0.0.1", "1.2.3.4, 10.1.1.1")
	f.Add("10.0.0.1", ",,[::1]:80,")
	f.Fuzz(func(t *testing.T, peer, xff string) {
		a, err := netip.ParseAddr(peer)
		if err != nil {
			return
		}
		got := p.Client(a, xff)
		if !p.Trusts(a) && got != a.Unmap() {
			t.Fatalf("untrusted peer %s became %s", a, got)
		}
		if !got.IsValid() {
			t.Fatalf("invalid address from %q %q", peer, xff)
		}
	})
}
