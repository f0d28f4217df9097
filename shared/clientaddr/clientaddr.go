// Package clientaddr decides which address a request comes from, for
// per-address limits on the api and the edge: the peer of the connection,
// unless that peer is a trusted proxy (TRUSTED_PROXIES), in which case the
// X-Forwarded-For chain it appended to is believed as far back as it runs
// through trusted proxies, and no further.
//
// Both processes use this one rule, so a client cannot be one address to
// the api and another to the edge.
package clientaddr

import (
	"fmt"
	"net/netip"
	"strings"
)

// Proxies is the set of networks whose X-Forwarded-For is believed. The
// zero value trusts nobody: every client is its connection's peer.
type Proxies struct {
	nets []netip.Prefix
}

// ParseProxies reads TRUSTED_PROXIES entries: CIDRs ("10.0.0.0/8",
// "fd00::/8") or single addresses ("192.0.2.7", meaning /32 or /128). An
// entry that is neither is an error naming it.
func ParseProxies(entries []string) (Proxies, error) {
	var p Proxies
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(e); err == nil {
			p.nets = append(p.nets, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return Proxies{}, fmt.Errorf("clientaddr: %q is neither a CIDR nor an address", e)
		}
		a = a.Unmap()
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

// Trusts reports whether a is inside one of the trusted networks.
func (p Proxies) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Empty reports whether no proxy is trusted.
func (p Proxies) Empty() bool { return len(p.nets) == 0 }

// Client returns the address a request comes from. peer is the address of
// the connection; xff is the request's X-Forwarded-For, every such header
// joined with "," in the order received ("" when there is none).
//
// The rule: start from the peer; while the address in hand is a trusted
// proxy and the chain has an entry left, take the chain's rightmost
// unconsumed entry (the one the trusted proxy itself appended). Entries
// left of the first untrusted address were written by the client or by
// proxies we do not know, so they are never believed. An entry that is
// not an address ends the walk at the trusted proxy that passed it on: a
// garbled chain can only make clients share a proxy's address, never pick
// one of their choosing. Without trusted proxies the header is ignored.
func (p Proxies) Client(peer netip.Addr, xff string) netip.Addr {
	addr := peer.Unmap()
	if len(p.nets) == 0 {
		return addr
	}
	rest := xff
	for p.Trusts(addr) {
		rest = strings.TrimRight(rest, " \t,")
		if rest == "" {
			return addr
		}
		entry := rest
		if i := strings.LastIndexByte(rest, ','); i >= 0 {
			entry, rest = rest[i+1:], rest[:i]
		} else {
			rest = ""
		}
		next, ok := parseEntry(strings.TrimSpace(entry))
		if !ok {
			return addr
		}
		addr = next
	}
	return addr
}

// parseEntry reads one X-Forwarded-For element: an address, possibly with
// a port ("192.0.2.1:4711", "[2001:db8::1]:4711"), as some proxies write.
func parseEntry(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
