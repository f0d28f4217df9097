package bench

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/redistest"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/redis/rueidis"
)

// BenchmarkHandshake is the edge's whole handshake as `make bench`'s
// density scenario drives it: TCP connect, HTTP upgrade, token check
// (Ed25519 signature, expiry, denylist), welcome, a ConversationChannel
// subscribe and its membership check, confirm_subscription. The edge is
// the built binary (a child process, GOMAXPROCS=2 as on the bench
// machine) on a redis-server of the benchmark's own; the client is the bench's own
// socket holder (loadtest/sockets, 128 handshakes in flight, as each
// `chatterly-bench sockets` child runs them). The sockets stay open until
// the timer stops, as density holds them.
//
//	go test -run '^$' -bench Handshake -benchtime 4000x -count 6 ./bench/
//
// (HANDSHAKE_PROFILE=edge.pprof adds a CPU profile of the edge;
// HANDSHAKE_REDIS_STATS=1 prints Redis' commandstats after the run: per
// handshake, the token's denylist GET, two SISMEMBERs, and presence's up
// script and XADD for a user coming online.)
//
// new: every token is one this edge process never saw (an edge that just
// started, as in a reconnect storm after its restart). seen: the tokens
// were all checked by this process before (clients reconnecting to the
// same edge after a network blip); their first sockets are closed before
// the timer starts.
//
// Figures, all CPU time (robust to a shared machine, unlike rates):
// edge-µs/op is the edge process's user+system time (/proc/<pid>/stat)
// per handshake; load-µs/op the benchmark process's (the load
// generator's, which shares the cores in `make bench`); redis-µs/op the
// redis-server's; edge-allocs/op the
// edge's heap allocations (go_memstats_mallocs_total) per handshake.
// allocs/op and B/op are the load generator's.
func BenchmarkHandshake(b *testing.B) {
	for _, mode := range []string{"new", "seen"} {
		b.Run(mode, func(b *testing.B) { benchHandshakes(b, mode == "seen") })
	}
}

func benchHandshakes(b *testing.B, seen bool) {
	// A Redis of the benchmark's own, so that its CPU time is the
	// handshakes' alone.
	srv := redistest.StartServer(b)
	rdb, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{proctest.Addr(srv.Port)}})
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	keys := rkey.New("hs:", 4)
	dir := b.TempDir()
	if err = token.GenerateKey(dir); err != nil {
		b.Fatal(err)
	}
	priv, err := token.LoadSigningKey(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	iss, err := token.NewIssuer(priv, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	// b.N users, each in a conversation of 19 (the judged shape), each
	// socket subscribing to it.
	ctx := context.Background()
	specs := make([]sockets.Spec, b.N)
	members := map[id.ID][]string{}
	for i := range specs {
		user, conv := id.ID(1_000_000+i), id.ID(5_000_000+i/19)
		tok, _, err := iss.Issue(user, user+100_000_000)
		if err != nil {
			b.Fatal(err)
		}
		specs[i] = sockets.Spec{Token: tok, Subs: []sockets.Sub{{Conv: int64(conv)}}}
		members[conv] = append(members[conv], user.String())
	}
	for conv, m := range members {
		cmd := rdb.B().Sadd().Key(keys.Members(conv)).Member(append(m, "0")...).Build()
		if err := rdb.Do(ctx, cmd).Error(); err != nil {
			b.Fatal(err)
		}
	}
	p := proctest.Start(b, map[string]string{
		"REDIS_URL":                 srv.URL,
		"REDIS_KEY_PREFIX":          keys.Prefix,
		"STREAM_SHARDS":             strconv.Itoa(keys.Shards),
		"JWT_KEY_DIR":               dir,
		"EDGE_ADDR":                 "127.0.0.1:0",
		"EDGE_ADMIN_ADDR":           "127.0.0.1:0",
		"EDGE_HANDSHAKE_RATE":       "1000000",
		"EDGE_HANDSHAKE_BURST":      "1000000",
		"EDGE_MAX_SOCKETS_PER_ADDR": "1000000",
		"EDGE_SHUTDOWN_WINDOW":      "100ms",
		// CPU is measured, not latency: on a machine shared with other
		// work a check may queue past the default 800 ms, which would
		// close the socket "unavailable" and end the run.
		"EDGE_REDIS_TIMEOUT": "10s",
		"LOG_LEVEL":          "info",
		"GOMAXPROCS":         "2",
		"EDGE_PPROF":         "1",
	}, proctest.Build(b, "github.com/chatterly/chatterly/edge/cmd/chatterly-edge"))
	line := p.WaitLog(b, "edge listening", 15*time.Second)
	addr, admin := line["addr"].(string), line["admin_addr"].(string)
	job := sockets.Job{Edges: []string{addr}, API: "http://127.0.0.1:1", ConnectRate: 1e7, ConnectWorkers: 128, Sockets: specs}
	if seen {
		warm := sockets.NewGroup(job)
		if st := warm.Connect(ctx); st.Connected != b.N {
			b.Fatalf("warm-up: %d of %d connected: %s", st.Connected, b.N, st.FirstErr)
		}
		warm.Close()
		deadline := time.Now().Add(30 * time.Second)
		for edgeMetric(b, admin, "chatterly_edge_sockets_open") != 0 {
			if time.Now().After(deadline) {
				b.Fatal("the warm-up sockets did not close")
			}
			time.Sleep(20 * time.Millisecond) // polling a condition
		}
	}
	g := sockets.NewGroup(job)
	defer g.Close()
	edge0, self0, redis0 := cpuOf(b, p.Pid()), cpuOf(b, os.Getpid()), cpuOf(b, srv.Pid())
	allocs0 := edgeMetric(b, admin, "go_memstats_mallocs_total")
	profiled := profileEdge(b, admin)
	b.ReportAllocs()
	b.ResetTimer()
	st := g.Connect(ctx)
	b.StopTimer()
	<-profiled
	edge1, self1, redis1 := cpuOf(b, p.Pid()), cpuOf(b, os.Getpid()), cpuOf(b, srv.Pid())
	allocs1 := edgeMetric(b, admin, "go_memstats_mallocs_total")
	if st.Connected != b.N {
		b.Fatalf("%d of %d connected: %s", st.Connected, b.N, st.FirstErr)
	}
	n := float64(b.N)
	if os.Getenv("HANDSHAKE_REDIS_STATS") != "" {
		info, _ := rdb.Do(ctx, rdb.B().Info().Section("commandstats").Build()).ToString()
		if b.N > 1 {
			os.Stderr.WriteString(info)
		}
	}
	b.ReportMetric(float64((edge1-edge0).Microseconds())/n, "edge-µs/op")
	b.ReportMetric(float64((self1-self0).Microseconds())/n, "load-µs/op")
	b.ReportMetric(float64((redis1-redis0).Microseconds())/n, "redis-µs/op")
	b.ReportMetric((allocs1-allocs0)/n, "edge-allocs/op")
}

// profileEdge writes a CPU profile of the edge's first
// HANDSHAKE_PROFILE_SECONDS (default 2) of handshakes to the file
// HANDSHAKE_PROFILE names, when it is set; run enough handshakes to fill
// it (-benchtime 15000x).
func profileEdge(b *testing.B, admin string) <-chan struct{} {
	done := make(chan struct{})
	path := os.Getenv("HANDSHAKE_PROFILE")
	if path == "" {
		close(done)
		return done
	}
	secs := os.Getenv("HANDSHAKE_PROFILE_SECONDS")
	if secs == "" {
		secs = "2"
	}
	go func() {
		defer close(done)
		r, err := http.Get("http://" + admin + "/debug/pprof/profile?seconds=" + secs)
		if err != nil {
			b.Error(err)
			return
		}
		defer r.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			b.Error(err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, r.Body); err != nil {
			b.Error(err)
		}
	}()
	return done
}

func cpuOf(b *testing.B, pid int) time.Duration {
	d, err := stats.CPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// edgeMetric reads a sample (summed over its series) from the edge's /metrics.
func edgeMetric(b *testing.B, admin, name string) float64 {
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get("http://" + admin + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		b.Fatal(err)
	}
	if v, ok := stats.ParseSum(body, name); ok {
		return v
	}
	b.Fatalf("the edge's /metrics has no %s", name)
	return 0
}
