package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/apitest"
	"github.com/chatterly/chatterly/api/convtest"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/load"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/valyala/fasthttp"
)

// The messaging issue's latency acceptance, as Go benchmarks: the whole api
// in process (apitest: the real router, Postgres and Redis of `make test`),
// driven over loopback HTTP by the bench's open-model driver (loadtest/load):
// requests are due at a fixed rate whatever the api does, and each one's
// latency runs from its due time, so a stall is counted for every request
// that should have been sent during it.
//
// Run it without the race detector, on a quiet machine. deploy/local/test.sh
// starts Postgres (fsync and synchronous_commit on, as it always runs) and
// Redis when they are not up, and stops what it started; a later -race=false
// wins over its -race:
//
//	TEST_PACKAGES=./bench/ \
//	GO_TEST_FLAGS="-race=false -run ^$ -bench Messaging -benchtime 10000x" \
//	bash deploy/local/test.sh
//
// (or, against any Postgres and Redis, go test with TEST_DATABASE_URL and
// TEST_REDIS_URL set).
//
// b.N is the number of measured requests of each sub-benchmark (10000x:
// 10 s of writes at 1,000/s), after warmup unmeasured ones. Figures: p50_ms, p99_ms, p999_ms from due time;
// ops/s achieved; failed requests. allocs/op and B/op count the whole
// process per request: the client and the driver as well as the api.
//
// Targets: POST …/messages p99 ≤ 5 ms at 1,000 writes/s from 50 clients
// over 100 conversations; a cached GET /conversations p99 ≤ 2 ms. They are
// printed, not asserted: a benchmark measures, `make bench` judges.
const (
	benchClients       = 50
	benchConversations = 100
	// benchPerConversation members: each client is in
	// benchConversations*benchPerConversation/benchClients conversations
	// (10), a realistic list for the cached read.
	benchPerConversation = 5
	writeRate            = 1000.0
	readRate             = 2000.0
)

// fixture is a running api with benchClients users, each with a token and
// its conversations.
type fixture struct {
	stack *apitest.Stack
	users []convtest.User
	convs [][]id.ID // conversations of each user
	hc    *fasthttp.HostClient
}

func newFixture(b *testing.B) *fixture {
	b.Helper()
	s := apitest.Start(b, map[string]string{
		// The load is 20 writes/s per client for the whole run: far above
		// what one person does, so the per-user limits are lifted (the
		// limiter still runs on every write).
		"RATE_MESSAGES":      "10000000",
		"RATE_CONVERSATIONS": "10000000",
		"DATABASE_MAX_CONNS": "64",
	})
	checkDurable(b, s)
	f := &fixture{stack: s, convs: make([][]id.ID, benchClients)}
	for range benchClients {
		f.users = append(f.users, convtest.NewUser(b, s, "bench"))
	}
	for c := range benchConversations {
		owner := c % benchClients
		var others []convtest.User
		for k := 1; k < benchPerConversation; k++ {
			others = append(others, f.users[(owner+k*benchClients/benchPerConversation)%benchClients])
		}
		conv := convtest.Create(b, s, f.users[owner], "group", fmt.Sprintf("bench-%d", c), others...)
		for _, u := range append([]convtest.User{f.users[owner]}, others...) {
			i := f.index(u)
			f.convs[i] = append(f.convs[i], conv.ID)
		}
	}
	f.hc = &fasthttp.HostClient{
		Addr:               strings.TrimPrefix(s.URL, "http://"),
		MaxConns:           benchClients,
		ReadTimeout:        10 * time.Second,
		WriteTimeout:       10 * time.Second,
		MaxConnWaitTimeout: 10 * time.Second,
	}
	return f
}

func (f *fixture) index(u convtest.User) int {
	for i, v := range f.users {
		if v.ID == u.ID {
			return i
		}
	}
	panic("unknown user")
}

// checkDurable refuses to measure a Postgres that does not flush commits:
// the targets are for durable writes.
func checkDurable(b *testing.B, s *apitest.Stack) {
	for _, setting := range []string{"fsync", "synchronous_commit"} {
		var v string
		if err := s.Deps.DB.QueryRow(context.Background(), "SHOW "+setting).Scan(&v); err != nil {
			b.Fatal(err)
		}
		if v != "on" {
			b.Fatalf("%s is %s: the benchmark measures durable commits only", setting, v)
		}
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cacheLookups reads the api's cache counters, by result.
func (f *fixture) cacheLookups(b *testing.B) map[string]float64 {
	mfs, err := f.stack.Deps.Metrics.Gather()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "chatterly_api_cache_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// do sends one request and expects status.
func (f *fixture) do(method, path, tok string, body []byte, status int) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + f.hc.Addr + path)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBody(body)
	}
	if err := f.hc.Do(req, resp); err != nil {
		return err
	}
	if resp.StatusCode() != status {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode(), resp.Body())
	}
	return nil
}

// warmup is how many requests run, unmeasured, before the measured ones:
// at the measured rate, they open the pools' connections (a Postgres
// backend is a fork, and each new connection prepares its statements) and
// bring the caches and the schedulers to their steady state, which is what
// a server that has been up for a while runs in.
const warmup = 3000

// pgCounters are Postgres's totals a request's cost is read from: the
// WAL position (bytes written since initdb) and the database's commits
// and rows written.
type pgCounters struct{ wal, commits, rows float64 }

func (f *fixture) pgCounters(b *testing.B) pgCounters {
	var c pgCounters
	err := f.stack.Deps.DB.QueryRow(context.Background(), `
		SELECT pg_current_wal_lsn() - '0/0', xact_commit, tup_inserted + tup_updated + tup_deleted
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.wal, &c.commits, &c.rows)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// run drives op at rate for warmup and then b.N requests, and reports the
// figures of the b.N, with Postgres's cost per request: WAL bytes, commits
// and rows written (an idle backend flushes its statistics counters within
// 10 s, PGSTAT_IDLE_INTERVAL, hence the pauses before each reading).
func run(b *testing.B, f *fixture, rate float64, op load.Op) {
	if b.N > 1 {
		if res := load.Run(context.Background(), load.Plan{Rate: rate, Ops: warmup, Workers: benchClients}, op); res.Failed > 0 {
			b.Fatalf("warm-up: %d requests failed; first: %s", res.Failed, res.FirstError)
		}
	}
	b.ReportAllocs()
	time.Sleep(11 * time.Second) // the warm-up's counters, flushed
	pg0 := f.pgCounters(b)
	cpu0 := processCPU(b)
	b.ResetTimer()
	res := load.Run(context.Background(), load.Plan{Rate: rate, Ops: int64(b.N), Workers: benchClients}, op)
	b.StopTimer()
	cpu1 := processCPU(b)
	time.Sleep(11 * time.Second)
	pg1 := f.pgCounters(b)
	n := float64(b.N)
	b.ReportMetric((pg1.wal-pg0.wal)/n, "pg_wal_B/op")
	b.ReportMetric((pg1.commits-pg0.commits)/n, "pg_commits/op")
	b.ReportMetric((pg1.rows-pg0.rows)/n, "pg_rows/op")
	// The process's CPU per request (api, client and driver together):
	// a figure that holds when other work shares the machine and the
	// latencies do not.
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "cpu_us/op")
	s := res.Latency.Summarize()
	b.ReportMetric(hist.Millis(s.P50), "p50_ms")
	b.ReportMetric(hist.Millis(s.P99), "p99_ms")
	b.ReportMetric(hist.Millis(s.P999), "p999_ms")
	b.ReportMetric(res.Throughput(), "ops/s")
	b.ReportMetric(float64(res.Failed+res.Unsent), "failed")
	if res.Failed > 0 {
		b.Errorf("%d requests failed; first: %s", res.Failed, res.FirstError)
	}
	if b.N >= 1000 {
		b.Logf("%s", res)
	}
}

// BenchmarkMessaging measures the write and the cached read of the issue's
// acceptance on one fixture.
func BenchmarkMessaging(b *testing.B) {
	f := newFixture(b)
	b.Run("post_message", func(b *testing.B) {
		bodies := make([][]byte, benchClients)
		for w := range bodies {
			bodies[w] = []byte(fmt.Sprintf(`{"body":"a message from bench client %d, long enough to be a real one"}`, w))
		}
		// Client w posts as user w, round robin over its conversations:
		// every one of the 100 conversations takes writes.
		run(b, f, writeRate, func(_ context.Context, call load.Call) error {
			w := call.Worker
			c := f.convs[w][int(call.I/benchClients)%len(f.convs[w])]
			return f.do("POST", "/conversations/"+c.String()+"/messages", f.users[w].Token, bodies[w], http.StatusCreated)
		})
	})
	b.Run("list_conversations_cached", func(b *testing.B) {
		// Readers are caught up (unread counts come from the cache), and
		// one read per user fills the cache before the clock starts.
		for w, u := range f.users {
			for _, c := range f.convs[w] {
				p := convtest.Get[convtest.Page[convtest.Message]](b, f.stack, u, "/conversations/"+c.String()+"/messages?limit=1")
				if len(p.Items) == 0 {
					continue
				}
				body := []byte(`{"message_id":"` + p.Items[0].ID.String() + `"}`)
				if err := f.do("POST", "/conversations/"+c.String()+"/read", u.Token, body, http.StatusOK); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.do("GET", "/conversations", u.Token, nil, http.StatusOK); err != nil {
				b.Fatal(err)
			}
		}
		before := f.cacheLookups(b)
		run(b, f, readRate, func(_ context.Context, call load.Call) error {
			return f.do("GET", "/conversations", f.users[call.Worker].Token, nil, http.StatusOK)
		})
		after := f.cacheLookups(b)
		if n := after["hit"] - before["hit"] + after["miss"] - before["miss"] + after["bypass"] - before["bypass"]; n > 0 {
			// Every lookup of the measured reads, cache entries of all
			// kinds: what was answered without Postgres.
			b.ReportMetric(100*(after["hit"]-before["hit"])/n, "cache_hit_%")
		}
	})
}
