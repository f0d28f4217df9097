package bench

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// BenchmarkCachedRead is the api's own CPU per cached read: the request is
// handed to the router's fasthttp handler in process (no socket, no
// client, no driver), so ns/op, B/op and allocs/op are the middleware
// (request id, CORS, routing, the token check), the handler, the cache
// lookups and the encoding of the answer, and nothing else. One goroutine
// runs it, so ns/op is that goroutine's CPU while the machine is not short
// of cores; cpu_us/op is the whole process's (GC and rueidis included).
// Compare runs with benchstat:
//
//	TEST_PACKAGES=./bench/ \
//	GO_TEST_FLAGS="-race=false -run ^$ -bench CachedRead -benchtime 20000x -count 6" \
//	bash deploy/local/test.sh | tee new.txt
//
// The world is the messaging benchmark's (50 users, each in 10 of 100
// conversations of 5) with a full newest page (pageMessages) in every
// conversation, every reader caught up, every answer read once before the
// clock starts: the harness's rest_read population in miniature.
func BenchmarkCachedRead(b *testing.B) {
	f := newFixture(b)
	const pageMessages = 60
	// A full newest page in each conversation read (every user's first),
	// and every member caught up in it, sent from a few goroutines.
	read := map[id.ID]convtest.User{}
	for w, u := range f.users {
		read[f.convs[w][0]] = u
	}
	errs := make(chan error, len(read))
	sem := make(chan struct{}, 8)
	for c, u := range read {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for i := range pageMessages {
				body := fmt.Sprintf(`{"body":"message %d of a cached page, long enough to be a real one"}`, i)
				if err := f.do("POST", "/conversations/"+c.String()+"/messages", u.Token, []byte(body), 201); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range read {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	for w, u := range f.users {
		for _, c := range f.convs[w] {
			if _, ok := read[c]; !ok {
				continue
			}
			p := convtest.Get[convtest.Page[convtest.Message]](b, f.stack, u, "/conversations/"+c.String()+"/messages?limit=1")
			body := []byte(`{"message_id":"` + p.Items[0].ID.String() + `"}`)
			if err := f.do("POST", "/conversations/"+c.String()+"/read", u.Token, body, 200); err != nil {
				b.Fatal(err)
			}
		}
	}
	settle(b)
	serve := f.stack.Server.Router().Serve
	// request w is user w's: one request per user, each read once (the
	// cache and the verified-token cache filled) before the clock starts.
	reqs := func(path func(w int) string) []*fasthttp.Request {
		out := make([]*fasthttp.Request, len(f.users))
		for w, u := range f.users {
			r := &fasthttp.Request{}
			r.Header.SetMethod("GET")
			r.SetRequestURI(path(w))
			r.Header.Set("Authorization", "Bearer "+u.Token)
			r.Header.Set("Host", "127.0.0.1")
			out[w] = r
		}
		return out
	}
	for _, bc := range []struct {
		name string
		path func(w int) string
	}{
		{"list_conversations", func(int) string { return "/conversations" }},
		{"list_messages", func(w int) string { return "/conversations/" + f.convs[w][0].String() + "/messages?limit=50" }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rs := reqs(bc.path)
			var rc fasthttp.RequestCtx
			rc.Init(rs[0], &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			one := func(w int) {
				rs[w].CopyTo(&rc.Request)
				rc.Response.Reset()
				serve(&rc)
				if st := rc.Response.StatusCode(); st != 200 {
					b.Fatalf("%s: %d %s", bc.name, st, rc.Response.Body())
				}
			}
			for w := range rs {
				one(w)
				one(w)
			}
			before := f.cacheLookups(b)
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				one(i % len(rs))
			}
			b.StopTimer()
			cpu1 := processCPU(b)
			b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/1000/float64(b.N), "cpu_us/op")
			b.ReportMetric(float64(len(rc.Response.Body())), "body_B")
			after := f.cacheLookups(b)
			if n := after["miss"] - before["miss"] + after["bypass"] - before["bypass"]; n > 0 {
				b.Fatalf("%s: %.0f cache lookups missed: the figure would not be of cached reads", bc.name, n)
			}
		})
	}
}

// settle waits until this process is nearly idle (under 10 % of a core
// over 200 ms, for at most 60 s) and at least 2.5 s have passed since the
// set-up's last write: the sends leave the api's publisher and the outbox
// busy for a while, and for 2 s after a write (api/cache.Recent) the
// writing process reads the keys it wrote from Redis, not from memory;
// either would be counted against the first reads.
func settle(b *testing.B) {
	const tick, idle = 200 * time.Millisecond, 20 * time.Millisecond
	fresh := time.Now().Add(2500 * time.Millisecond)
	defer func() { time.Sleep(time.Until(fresh)) }()
	prev := processCPU(b)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		time.Sleep(tick) // polling the process's CPU: no event to wait on
		cur := processCPU(b)
		if cur-prev < idle {
			return
		}
		prev = cur
	}
	b.Log("the process did not settle within a minute; measuring anyway")
}
