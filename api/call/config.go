package call

import (
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/shared/config"
)

// Config is the calls' configuration, read by the api.
type Config struct {
	// RingTimeout is how long a call may go unanswered (CALL_RING_TIMEOUT).
	RingTimeout time.Duration
	// ICE is what GET /calls/ice-servers hands out.
	ICE ICEConfig
	// Limits are the call-attempt rate limits (RATE_CALLS,
	// RATE_CALLS_PER_CALLEE).
	Limits Limits
}

// Limits bound how often one user may place calls: a call rings the
// callee's every device and makes them busy for everyone else until it is
// answered or missed, so an unbounded caller could keep anyone busy.
type Limits struct {
	// PerCaller counts every call attempt of one caller.
	PerCaller ratelimit.Rule
	// PerPair counts the attempts of one caller to one callee.
	PerPair ratelimit.Rule
}

// DefaultLimits let a person redial a few times: 10 calls a minute, 5 of
// them to the same person.
func DefaultLimits() Limits {
	return Limits{
		PerCaller: ratelimit.Rule{Name: "calls", Max: 10, Window: time.Minute},
		PerPair:   ratelimit.Rule{Name: "calls_pair", Max: 5, Window: time.Minute},
	}
}

// DefaultRingTimeout is how long a phone rings before it gives up, roughly;
// the original design's 30 s.
const DefaultRingTimeout = 30 * time.Second

// LoadRingTimeout reads CALL_RING_TIMEOUT, a Go duration. The api and the
// worker both read it: the api schedules the missed-call job with it, and
// the worker never misses a call younger than it.
func LoadRingTimeout(e *config.Env) time.Duration {
	return e.Duration("CALL_RING_TIMEOUT", DefaultRingTimeout, 100*time.Millisecond, 10*time.Minute)
}

// LoadConfig reads the calls' variables from e. TURN_URLS and TURN_SECRET
// go together: a TURN server without credentials, or a secret with no
// server, is a misconfiguration that would only show when a call behind a
// NAT fails.
func LoadConfig(e *config.Env) Config {
	c := Config{
		RingTimeout: LoadRingTimeout(e),
		Limits:      DefaultLimits(),
		ICE: ICEConfig{
			STUN:          e.List("STUN_URLS", nil),
			TURN:          e.List("TURN_URLS", nil),
			Secret:        e.Secret("TURN_SECRET", ""),
			CredentialTTL: e.Duration("TURN_CREDENTIAL_TTL", 12*time.Hour, time.Minute, 7*24*time.Hour),
		},
	}
	c.Limits.PerCaller.Max = e.Int("RATE_CALLS", c.Limits.PerCaller.Max, 1, 1_000_000)
	c.Limits.PerPair.Max = e.Int("RATE_CALLS_PER_CALLEE", c.Limits.PerPair.Max, 1, 1_000_000)
	for _, u := range c.ICE.STUN {
		e.Check(strings.HasPrefix(u, "stun:") || strings.HasPrefix(u, "stuns:"), "STUN_URLS", u, "want stun: or stuns: URLs")
	}
	for _, u := range c.ICE.TURN {
		e.Check(strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:"), "TURN_URLS", u, "want turn: or turns: URLs")
	}
	e.Check(len(c.ICE.TURN) == 0 || c.ICE.Secret != "", "TURN_SECRET", "", "want the TURN server's shared secret when TURN_URLS is set")
	e.Check(c.ICE.Secret == "" || len(c.ICE.TURN) > 0, "TURN_URLS", "", "want the TURN server URLs when TURN_SECRET is set")
	return c
}
