package load

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

// floorChildEnv makes the test binary the floor server (TestMain).
const floorChildEnv = "LOAD_FLOOR_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(floorChildEnv) == "1" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		os.Stdout.WriteString(ln.Addr().String() + "\n")
		_ = ServeFloor(ln)
		return
	}
	os.Exit(m.Run())
}

// startFloor runs the floor server in a child process (this test binary,
// TestMain) and returns its address and pid.
func startFloor(b *testing.B) (string, int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), floorChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return addr[:len(addr)-1], cmd.Process.Pid
}

func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGenerator is the bench's REST load generator's own CPU per
// request (gen_cpu_us/op: this process, the open-model driver and the
// client) beside the floor server's (floor_cpu_us/op: a bare fasthttp
// server answering a fixed 4 KiB body, in a child process), at the
// harness's settings: 10,000 requests/s due, rate/5 workers, 256
// connections, bearer tokens of 2,000 users. allocs/op and B/op are the
// generator's. Run it on a quiet machine and compare runs with benchstat:
//
//	go test -run '^$' -bench Generator -benchtime 50000x -count 6 ./loadtest/load/
func BenchmarkGenerator(b *testing.B) {
	addr, pid := startFloor(b)
	const rate, users = 10_000.0, 2000
	toks := make([]string, users)
	paths := make([]string, users)
	for i := range toks {
		// The shape of a real token: about 200 bytes of base64url.
		toks[i] = "eyJhbGciOiJFZERTQSIsImtpZCI6IjEifQ." + strconv.Itoa(1_000_000+i) + ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
		paths[i] = "/conversations/" + strconv.Itoa(7_000_000_000_000_000+i) + "/messages?limit=50"
	}
	for _, bc := range []struct {
		name string
		op   func(c *HTTP) Op
	}{
		{"do", func(c *HTTP) Op {
			return func(_ context.Context, call Call) error {
				k := int(call.I) % users
				_, _, err := c.Do("GET", paths[k], toks[k], nil, false)
				return err
			}
		}},
		{"prepared", func(c *HTTP) Op {
			ps := make([]*Prepared, users)
			for k := range ps {
				ps[k] = c.Prepare("GET", paths[k], toks[k], nil)
			}
			return func(_ context.Context, call Call) error {
				_, err := c.Send(ps[int(call.I)%users])
				return err
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := NewHTTP("http://"+addr, 256)
			op := bc.op(c)
			plan := Plan{Rate: rate, Workers: int(rate / 5), Grace: time.Minute}
			plan.Ops = 2000 // connections opened, pools filled
			if r := Run(context.Background(), plan, op); !r.Clean() {
				b.Fatalf("warm-up: %s", r.FirstError)
			}
			b.ReportAllocs()
			gen0 := selfCPU(b)
			floor0, err := stats.CPU(pid)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			plan.Ops = int64(b.N)
			r := Run(context.Background(), plan, op)
			b.StopTimer()
			gen1 := selfCPU(b)
			floor1, err := stats.CPU(pid)
			if err != nil {
				b.Fatal(err)
			}
			if !r.Clean() {
				b.Fatalf("%d failed, %d unsent: %s", r.Failed, r.Unsent, r.FirstError)
			}
			n := float64(b.N)
			b.ReportMetric(float64((gen1-gen0).Nanoseconds())/1000/n, "gen_cpu_us/op")
			b.ReportMetric(float64((floor1-floor0).Nanoseconds())/1000/n, "floor_cpu_us/op")
			b.ReportMetric(r.Throughput(), "req/s")
		})
	}
}

// TestPreparedRequestIsSentByManyAtOnce: one Prepared request sent from
// several goroutines at once reaches the server whole each time (method,
// path and query, bearer token), and the floor server answers its body.
func TestPreparedRequestIsSentByManyAtOnce(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	srv := &fasthttp.Server{Handler: func(rc *fasthttp.RequestCtx) {
		if string(rc.Method()) == "GET" && string(rc.RequestURI()) == "/x?limit=50" &&
			string(rc.Request.Header.Peek("Authorization")) == "Bearer tok" {
			seen.Add(1)
			return
		}
		rc.SetStatusCode(400)
	}}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	c := NewHTTP("http://"+ln.Addr().String(), 4)
	p := c.Prepare("GET", "/x?limit=50", "tok", nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if st, err := c.Send(p); err != nil || st != 200 {
					t.Errorf("send: %d %v", st, err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 400, seen.Load())

	floor, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ServeFloor(floor) }()
	t.Cleanup(func() { _ = floor.Close() })
	_, body, err := NewHTTP("http://"+floor.Addr().String(), 1).Do("GET", "/anything", "", nil, true)
	require.NoError(t, err)
	require.Equal(t, FloorBody, body)
	require.Len(t, FloorBody, 4096)
	require.True(t, json.Valid(FloorBody))
}
