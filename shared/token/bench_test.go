package token

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/redistest"
)

// The auth check as every request and every socket handshake pays it:
// signature and expiry (cached by token hash), then the denylist (cached
// by rueidis, invalidated by Redis). Run against a real Redis:
//
//	TEST_REDIS_URL=redis://127.0.0.1:<port>/0 go test -run '^$' -bench Check -benchtime 2s ./shared/token/
//
// Besides ns/op each reports p50-ns and p99-ns, the percentiles of single
// checks (timing each costs ~50 ns, included).

// BenchmarkCheckSeen checks a token seen before: cache hits for both the
// signature and the denylist. Target: p99 ≤ 100 µs.
func BenchmarkCheckSeen(b *testing.B) {
	rdb, keys := redistest.Client(b)
	k := setup(b, 100_000)
	chk := &Checker{Verifier: k.ver, Denylist: NewDenylist(rdb, keys)}
	ctx := context.Background()
	raw, _, err := k.iss.Issue(1, 1)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := chk.Check(ctx, raw); err != nil { // warm both caches
		b.Fatal(err)
	}
	measure(b, chk, func(int) string { return raw })
}

// BenchmarkCheckNew checks tokens never seen before: a full Ed25519
// verify each. new_session: each token is of a session never seen before,
// so the denylist read goes to Redis (then is cached). known_session: the
// tokens share a session already checked (a refreshed token, a second
// socket), so the denylist answers from memory. Tokens are signed before
// the timer starts.
func BenchmarkCheckNew(b *testing.B) {
	for _, mode := range []string{"new_session", "known_session"} {
		b.Run(mode, func(b *testing.B) {
			rdb, keys := redistest.Client(b)
			k := setup(b, 100_000)
			chk := &Checker{Verifier: k.ver, Denylist: NewDenylist(rdb, keys)}
			ctx := context.Background()
			toks := make([]string, b.N)
			for i := range toks {
				sid := id.ID(1)
				if mode == "new_session" {
					sid = id.ID(i + 2)
				}
				raw, _, err := k.iss.Issue(1, sid)
				if err != nil {
					b.Fatal(err)
				}
				toks[i] = raw
			}
			if _, err := chk.Denylist.Revoked(ctx, 1); err != nil { // session 1 is known
				b.Fatal(err)
			}
			measure(b, chk, func(i int) string { return toks[i] })
		})
	}
}

// measure runs b.N checks of token(i), timing each, and reports the
// p50 and p99 of single checks besides ns/op.
func measure(b *testing.B, chk *Checker, token func(i int) string) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := chk.Check(ctx, token(i)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
}
