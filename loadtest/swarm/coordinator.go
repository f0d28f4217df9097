package swarm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/loadtest/child"
	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// Result is what a run measured.
type Result struct {
	Sockets        int     `json:"sockets"`
	Connected      int     `json:"connected"`
	Failed         int     `json:"failed"`
	Rejected       int64   `json:"rejected"`
	ConnectSeconds float64 `json:"connect_seconds"`
	HandshakesPerS float64 `json:"handshakes_per_second"`

	IdleMemory      stats.Memory `json:"edge_idle_memory"`
	LoadedMemory    stats.Memory `json:"edge_loaded_memory"`
	RSSPerSocket    float64      `json:"rss_bytes_per_socket"`
	AnonPerSocket   float64      `json:"anon_bytes_per_socket"`
	Events          int64        `json:"events"`
	Frames          int64        `json:"frames"`
	EdgeFrames      float64      `json:"edge_frames_metric"`
	Seconds         float64      `json:"seconds"`
	FramesPerSecond float64      `json:"frames_per_second"`
	EdgeCPUSeconds  float64      `json:"edge_cpu_seconds"`
	EdgeUSPerFrame  float64      `json:"edge_us_per_frame"`
	LoadCPUSeconds  float64      `json:"generator_cpu_seconds"`
	LagP50MS        float64      `json:"lag_p50_ms"`
	LagP99MS        float64      `json:"lag_p99_ms"`
	LagP999MS       float64      `json:"lag_p999_ms"`
	LagMaxMS        float64      `json:"lag_max_ms"`
	LastP50MS       float64      `json:"last_socket_lag_p50_ms"`
	LastP99MS       float64      `json:"last_socket_lag_p99_ms"`
	// EdgeLagP50MS and EdgeLagP99MS are the edge's own view (its
	// delivery lag histogram: stream entry to the write of an event's
	// last frame on a loop), as the upper bound of the bucket holding the
	// quantile; the entry time has millisecond resolution.
	EdgeLagP50MS  float64 `json:"edge_lag_p50_ms"`
	EdgeLagP99MS  float64 `json:"edge_lag_p99_ms"`
	PublishErrors int     `json:"publish_errors"`
	Closed        int64   `json:"sockets_closed_during_run"`
}

// Run is the coordinator.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Result, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := ensureKey(cfg.KeyDir); err != nil {
		return nil, fmt.Errorf("key dir: %w", err)
	}
	opt, err := rueidis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, err
	}
	opt.DisableCache = true
	rdb, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	defer rdb.Close()
	keys := rkey.New(cfg.Prefix, cfg.Shards)
	if err := seed(ctx, rdb, keys, &cfg); err != nil {
		return nil, fmt.Errorf("seeding member sets: %w", err)
	}
	if cfg.EdgeBin != "" {
		edge, err := startEdge(&cfg)
		if err != nil {
			return nil, err
		}
		defer stopEdge(edge)
		cfg.EdgePID = edge.Process.Pid
	}
	res := &Result{Sockets: cfg.Sockets}
	if cfg.EdgePID > 0 {
		time.Sleep(2 * time.Second) // let the idle edge settle
		res.IdleMemory, _ = stats.ReadMemory(cfg.EdgePID)
	}
	fmt.Fprintf(log, "opening %d sockets from %d processes\n", cfg.Sockets, (cfg.Sockets+cfg.PerProc-1)/cfg.PerProc)

	start := time.Now()
	procs, err := spawn(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, p := range procs {
			_ = p.Call(workerReq{Cmd: "close"}, &workerMsg{})
			_ = p.Close()
		}
	}()
	for _, p := range procs {
		var m workerMsg
		if err := p.Call(workerReq{Cmd: "ready"}, &m); err != nil {
			return nil, err
		}
		res.Connected += m.Connected
		res.Failed += m.Failed
		res.Rejected += m.Rejects
		if m.FirstErr != "" {
			fmt.Fprintf(log, "worker %d: %d failed, first: %s\n", m.PID, m.Failed, m.FirstErr)
		}
	}
	res.ConnectSeconds = time.Since(start).Seconds()
	res.HandshakesPerS = float64(res.Connected) / res.ConnectSeconds
	fmt.Fprintf(log, "%d connected and subscribed in %.1fs (%.0f handshakes/s), %d failed, %d rejected\n",
		res.Connected, res.ConnectSeconds, res.HandshakesPerS, res.Failed, res.Rejected)

	if cfg.EdgePID > 0 {
		time.Sleep(cfg.Settle)
		res.LoadedMemory, _ = stats.ReadMemory(cfg.EdgePID)
		if res.Connected > 0 {
			res.RSSPerSocket = float64(res.LoadedMemory.RSS-res.IdleMemory.RSS) / float64(res.Connected)
			res.AnonPerSocket = float64(res.LoadedMemory.Anon-res.IdleMemory.Anon) / float64(res.Connected)
		}
		fmt.Fprintf(log, "edge memory: idle %.1f MB RSS (%.1f MB anon), with sockets %.1f MB (%.1f MB anon): %.0f B/socket RSS, %.0f B/socket anon\n",
			mb(res.IdleMemory.RSS), mb(res.IdleMemory.Anon), mb(res.LoadedMemory.RSS), mb(res.LoadedMemory.Anon),
			res.RSSPerSocket, res.AnonPerSocket)
	}
	if cfg.Rate > 0 {
		if err := measure(ctx, cfg, rdb, keys, procs, res, log); err != nil {
			return res, err
		}
	}
	if cfg.JSON != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.JSON, b, 0o644); err != nil {
			return res, err
		}
	}
	return res, nil
}

// spawn starts the worker processes, each with its slice of the sockets.
func spawn(cfg Config) ([]*child.Proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var procs []*child.Proc
	for from := 0; from < cfg.Sockets; from += cfg.PerProc {
		n := min(cfg.PerProc, cfg.Sockets-from)
		args := []string{"-worker", "-from", strconv.Itoa(from), "-count", strconv.Itoa(n),
			"-target", cfg.Target, "-key-dir", cfg.KeyDir, "-sockets", strconv.Itoa(cfg.Sockets),
			"-convs", strconv.Itoa(cfg.Convs), "-users", strconv.Itoa(cfg.Users),
			"-user-base", strconv.FormatInt(cfg.UserBase, 10), "-dialers", strconv.Itoa(cfg.Dialers),
			"-loops", strconv.Itoa(cfg.Loops)}
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		p, err := child.Start(fmt.Sprintf("worker %d", len(procs)), cmd, nil)
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// measure publishes for warmup, resets the workers, publishes for the
// measured duration while reading CPU times, and merges the reports.
func measure(ctx context.Context, cfg Config, rdb rueidis.Client, keys rkey.Space, procs []*child.Proc, res *Result, log io.Writer) error {
	pub := newPublisher(rdb, keys, &cfg)
	fmt.Fprintf(log, "publishing %.0f events/s of %d-byte data to %d conversations (~%.0f frames/s)\n",
		cfg.Rate, cfg.Payload, cfg.Convs, cfg.Rate*float64(res.Connected)/float64(cfg.Convs))
	if cfg.Warmup > 0 {
		pub.run(ctx, cfg.Warmup)
		time.Sleep(500 * time.Millisecond)
	}
	for _, p := range procs {
		if err := p.Call(workerReq{Cmd: "reset"}, &workerMsg{}); err != nil {
			return err
		}
	}
	time.Sleep(100 * time.Millisecond)
	pids := []int{os.Getpid()}
	for _, p := range procs {
		pids = append(pids, p.PID())
	}
	loadCPU0 := cpuSum(pids)
	edgeCPU0, _ := stats.CPU(cfg.EdgePID)
	const framesMetric, lagMetric = "chatterly_edge_frames_delivered_total", "chatterly_edge_delivery_lag_seconds"
	metrics0 := scrape(cfg.Admin)
	first := pub.n + 1
	t0 := time.Now()
	res.Events = pub.run(ctx, cfg.Duration)
	last := pub.n
	time.Sleep(time.Second) // let the last frames arrive
	res.Seconds = time.Since(t0).Seconds() - 1
	edgeCPU1, _ := stats.CPU(cfg.EdgePID)
	loadCPU1 := cpuSum(pids)
	metrics1 := scrape(cfg.Admin)
	res.EdgeFrames = metrics1[framesMetric] - metrics0[framesMetric]
	res.EdgeLagP50MS, res.EdgeLagP99MS = bucketQuantiles(buckets(metrics0, lagMetric), buckets(metrics1, lagMetric))
	res.PublishErrors = pub.errs

	lag := hist.New()
	eventMax := map[int64]int64{}
	for _, p := range procs {
		var m workerMsg
		if err := p.Call(workerReq{Cmd: "report", First: first, Last: last}, &m); err != nil {
			return err
		}
		res.Frames += m.Frames
		res.Closed += m.Closed
		lag.MergeSnapshot(m.Lag)
		for n, v := range m.EventMax {
			if n >= first && n <= last {
				eventMax[n] = max(eventMax[n], v)
			}
		}
	}
	lastSock := hist.New()
	for _, v := range eventMax {
		lastSock.Record(time.Duration(v) * time.Microsecond)
	}
	res.FramesPerSecond = float64(res.Frames) / res.Seconds
	res.EdgeCPUSeconds = (edgeCPU1 - edgeCPU0).Seconds()
	res.LoadCPUSeconds = (loadCPU1 - loadCPU0).Seconds()
	if res.Frames > 0 {
		res.EdgeUSPerFrame = res.EdgeCPUSeconds * 1e6 / float64(res.Frames)
	}
	res.LagP50MS, res.LagP99MS, res.LagP999MS = ms(lag.Quantile(.5)), ms(lag.Quantile(.99)), ms(lag.Quantile(.999))
	res.LagMaxMS = ms(lag.Max())
	res.LastP50MS, res.LastP99MS = ms(lastSock.Quantile(.5)), ms(lastSock.Quantile(.99))
	fmt.Fprintf(log, "published %d events in %.1fs (%d errors); delivered %d frames = %.0f frames/s (edge counted %.0f)\n",
		res.Events, res.Seconds, res.PublishErrors, res.Frames, res.FramesPerSecond, res.EdgeFrames)
	fmt.Fprintf(log, "edge CPU %.2f s = %.2f cores = %.2f µs/frame; load generator CPU %.2f s (same cores)\n",
		res.EdgeCPUSeconds, res.EdgeCPUSeconds/res.Seconds, res.EdgeUSPerFrame, res.LoadCPUSeconds)
	fmt.Fprintf(log, "lag stream entry -> socket, per frame: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.1f ms\n",
		res.LagP50MS, res.LagP99MS, res.LagP999MS, res.LagMaxMS)
	fmt.Fprintf(log, "lag of each event's last socket (%d events): p50 %.2f ms, p99 %.2f ms\n",
		len(eventMax), res.LastP50MS, res.LastP99MS)
	fmt.Fprintf(log, "edge's own delivery lag histogram (stream entry -> last write on a loop): p50 <= %.1f ms, p99 <= %.1f ms\n",
		res.EdgeLagP50MS, res.EdgeLagP99MS)
	if res.Closed > 0 {
		fmt.Fprintf(log, "WARNING: %d sockets closed during the run\n", res.Closed)
	}
	return nil
}

func cpuSum(pids []int) time.Duration {
	var t time.Duration
	for _, pid := range pids {
		c, _ := stats.CPU(pid)
		t += c
	}
	return t
}

// scrape reads the edge's /metrics: each sample (name and labels as
// written) and its value; empty when the edge does not answer.
func scrape(admin string) map[string]float64 {
	out := map[string]float64{}
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get("http://" + admin + "/metrics")
	if err != nil {
		return out
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			out[line[:i]], _ = strconv.ParseFloat(line[i+1:], 64)
		}
	}
	return out
}

func mb(b int64) float64         { return float64(b) / (1 << 20) }
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// buckets picks a histogram's cumulative buckets (upper bound in seconds
// -> count) out of a scrape.
func buckets(samples map[string]float64, name string) map[float64]float64 {
	out := map[float64]float64{}
	for k, v := range samples {
		if rest, ok := strings.CutPrefix(k, name+`_bucket{le="`); ok {
			le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64)
			if err != nil {
				le = math.Inf(1)
			}
			out[le] = v
		}
	}
	return out
}

// bucketQuantiles returns the p50 and p99 of the observations between two
// readings of a cumulative histogram, as bucket upper bounds in ms.
func bucketQuantiles(before, after map[float64]float64) (p50, p99 float64) {
	les := make([]float64, 0, len(after))
	for le := range after {
		les = append(les, le)
	}
	sort.Float64s(les)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total <= 0 {
		return 0, 0
	}
	find := func(q float64) float64 {
		for _, le := range les {
			if after[le]-before[le] >= q*total {
				return le * 1000
			}
		}
		return math.Inf(1)
	}
	return find(0.5), find(0.99)
}
