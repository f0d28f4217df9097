package swarm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/loadtest/hist"
	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/loadtest/stats"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
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
	// HandshakeP50MS and P99 are from each socket's due time to its
	// subscription's confirmation.
	HandshakeP50MS float64 `json:"handshake_p50_ms"`
	HandshakeP99MS float64 `json:"handshake_p99_ms"`

	IdleMemory      stats.Memory `json:"edge_idle_memory"`
	LoadedMemory    stats.Memory `json:"edge_loaded_memory"`
	RSSPerSocket    float64      `json:"rss_bytes_per_socket"`
	AnonPerSocket   float64      `json:"anon_bytes_per_socket"`
	Events          int64        `json:"events"`
	Expected        int64        `json:"deliveries_expected"`
	Frames          int64        `json:"frames"`
	Lost            int64        `json:"lost"`
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
	PublishErrors   int          `json:"publish_errors"`
	Closed          int          `json:"sockets_closed_during_run"`
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
	jobs, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.EdgeBin != "" {
		edge, err := startEdge(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		defer func() { _ = edge.Stop(syscall.SIGTERM, 30*time.Second) }()
		cfg.EdgePID = edge.PID()
	}
	res := &Result{Sockets: cfg.Sockets}
	if cfg.EdgePID > 0 {
		time.Sleep(2 * time.Second) // let the idle edge settle
		res.IdleMemory, _ = stats.ReadMemory(cfg.EdgePID)
	}
	fmt.Fprintf(log, "opening %d sockets from %d processes\n", cfg.Sockets, len(jobs))
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	clients, err := sockets.SpawnAll(self, len(jobs), func(i int) (string, string) { return fmt.Sprintf("sockets %d", i), "/dev/stderr" })
	if err != nil {
		return nil, err
	}
	defer func() { _ = clients.Close() }()
	start := time.Now()
	st, err := clients.Start(jobs)
	if err != nil {
		return nil, err
	}
	res.ConnectSeconds = time.Since(start).Seconds()
	res.Connected, res.Failed = st.Connected, st.Failed
	res.HandshakesPerS = float64(st.Connected) / res.ConnectSeconds
	hs := hist.New()
	hs.MergeSnapshot(st.Handshake)
	res.HandshakeP50MS, res.HandshakeP99MS = hist.Millis(int64(hs.Quantile(.5))), hist.Millis(int64(hs.Quantile(.99)))
	if status, err := clients.Status(); err == nil {
		res.Rejected = status.Rejected
	}
	fmt.Fprintf(log, "%d connected and subscribed in %.1fs (%.0f handshakes/s; due -> confirmed p50 %.1f ms, p99 %.1f ms), %d failed, %d rejected\n",
		res.Connected, res.ConnectSeconds, res.HandshakesPerS, res.HandshakeP50MS, res.HandshakeP99MS, res.Failed, res.Rejected)
	if st.FirstErr != "" {
		fmt.Fprintf(log, "first failure: %s\n", st.FirstErr)
	}

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
		if err := measure(ctx, cfg, rdb, keys, clients, res, log); err != nil {
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

// plan signs each socket's token and deals the sockets out to children of
// at most PerProc each: socket i is user(i) subscribed to conv(i).
func plan(cfg Config) ([]sockets.Job, error) {
	priv, err := token.LoadSigningKey(cfg.KeyDir, false)
	if err != nil {
		return nil, err
	}
	iss, err := token.NewIssuer(priv, 6*time.Hour)
	if err != nil {
		return nil, err
	}
	n := (cfg.Sockets + cfg.PerProc - 1) / cfg.PerProc
	jobs := make([]sockets.Job, n)
	for i := range jobs {
		jobs[i] = sockets.Job{Edges: []string{cfg.Target}, ConnectRate: cfg.Connect / float64(n), ConnectWorkers: cfg.Dialers}
	}
	for i := 0; i < cfg.Sockets; i++ {
		u := id.ID(cfg.user(i))
		tok, _, err := iss.Issue(u, u)
		if err != nil {
			return nil, err
		}
		j := &jobs[i/cfg.PerProc]
		j.Sockets = append(j.Sockets, sockets.Spec{Token: tok, Subs: []sockets.Sub{{Conv: cfg.conv(i)}}})
	}
	return jobs, nil
}

// Phases of a run: warm-up (not measured), then the measured one.
const (
	phaseWarmup uint16 = 1 + iota
	phaseMeasured
)

// measure publishes for warm-up and drops what it delivered, then
// publishes for the measured duration while reading CPU times, waits for
// the deliveries, and accounts them.
func measure(ctx context.Context, cfg Config, rdb rueidis.Client, keys rkey.Space, clients sockets.Clients, res *Result, log io.Writer) error {
	pub := newPublisher(rdb, keys, &cfg)
	fmt.Fprintf(log, "publishing %.0f events/s of %d-byte data to %d conversations (~%.0f frames/s)\n",
		cfg.Rate, cfg.Payload, cfg.Convs, cfg.Rate*float64(res.Connected)/float64(cfg.Convs))
	if cfg.Warmup > 0 {
		sent, _ := pub.run(ctx, phaseWarmup, cfg.Warmup)
		time.Sleep(500 * time.Millisecond)
		if _, _, err := clients.Report(phaseWarmup, sent); err != nil {
			return err
		}
	}
	loadCPU0 := cpuSum(clients)
	edgeCPU0, _ := stats.CPU(cfg.EdgePID)
	t0 := time.Now()
	sent, events := pub.run(ctx, phaseMeasured, cfg.Duration)
	var expected int64
	for _, e := range sent {
		expected += int64(len(e.Ks)) * int64(cfg.subscribers(e.Conv))
	}
	clients.Settle(ctx, phaseMeasured, expected, time.Second, time.Minute)
	res.Seconds = time.Since(t0).Seconds()
	edgeCPU1, _ := stats.CPU(cfg.EdgePID)
	loadCPU1 := cpuSum(clients)
	rep, lag, err := clients.Report(phaseMeasured, sent)
	if err != nil {
		return err
	}
	if status, err := clients.Status(); err == nil {
		res.Closed = res.Connected - status.Open
	}
	lastSock := hist.New()
	for _, v := range rep.Last {
		lastSock.RecordValue(v)
	}
	res.Events, res.PublishErrors = events, pub.errs
	res.Expected, res.Frames, res.Lost = rep.Expected, rep.Delivered, rep.Lost
	res.FramesPerSecond = float64(res.Frames) / res.Seconds
	res.EdgeCPUSeconds = (edgeCPU1 - edgeCPU0).Seconds()
	res.LoadCPUSeconds = (loadCPU1 - loadCPU0).Seconds()
	if res.Frames > 0 {
		res.EdgeUSPerFrame = res.EdgeCPUSeconds * 1e6 / float64(res.Frames)
	}
	q := func(h *hist.Histogram, p float64) float64 { return hist.Millis(int64(h.Quantile(p))) }
	res.LagP50MS, res.LagP99MS, res.LagP999MS = q(lag, .5), q(lag, .99), q(lag, .999)
	res.LagMaxMS = hist.Millis(int64(lag.Max()))
	res.LastP50MS, res.LastP99MS = q(lastSock, .5), q(lastSock, .99)
	fmt.Fprintf(log, "published %d events (%d errors); delivered %d of %d frames (%d lost) in %.1fs = %.0f frames/s\n",
		res.Events, res.PublishErrors, res.Frames, res.Expected, res.Lost, res.Seconds, res.FramesPerSecond)
	fmt.Fprintf(log, "edge CPU %.2f s = %.2f cores = %.2f µs/frame; load generator CPU %.2f s (same cores)\n",
		res.EdgeCPUSeconds, res.EdgeCPUSeconds/res.Seconds, res.EdgeUSPerFrame, res.LoadCPUSeconds)
	fmt.Fprintf(log, "lag stream entry -> socket, per frame: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.1f ms\n",
		res.LagP50MS, res.LagP99MS, res.LagP999MS, res.LagMaxMS)
	fmt.Fprintf(log, "lag of each event's last socket (%d events): p50 %.2f ms, p99 %.2f ms\n",
		len(rep.Last), res.LastP50MS, res.LastP99MS)
	if res.Closed > 0 {
		fmt.Fprintf(log, "WARNING: %d sockets closed during the run\n", res.Closed)
	}
	return nil
}

// cpuSum is the CPU time of the load generator: this process and its
// socket children.
func cpuSum(clients sockets.Clients) time.Duration {
	t, _ := stats.CPU(os.Getpid())
	for _, c := range clients {
		d, _ := stats.CPU(c.PID())
		t += d
	}
	return t
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
