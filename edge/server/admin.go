package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	sharedmetrics "github.com/chatterly/chatterly/shared/metrics"
	"github.com/valyala/fasthttp"
)

// serveAdmin serves /healthz (the process runs), /readyz (it consumes the
// streams, reaches Redis and is not draining), /metrics, and with
// EDGE_PPROF=1 the Go profiles under /debug/pprof/. It takes few
// descriptors: admin traffic is a prober and a scraper.
func (s *Server) serveAdmin() (*fasthttp.Server, net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("EDGE_ADMIN_ADDR: %w", err)
	}
	srv := &fasthttp.Server{
		Name:         "chatterly-edge",
		Concurrency:  16,
		ReadTimeout:  5 * time.Second,
		WriteTimeout: 10 * time.Second,
		Handler: sharedmetrics.AdminHandler(s.d.Metrics, s.cfg.Pprof, func(c *fasthttp.RequestCtx) {
			switch string(c.Path()) {
			case "/healthz":
				c.SetContentType("application/json")
				c.SetBodyString(`{"status":"ok"}`)
			case "/readyz":
				s.readyz(c)
			default:
				c.SetStatusCode(fasthttp.StatusNotFound)
			}
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr(), nil
}

func (s *Server) readyz(c *fasthttp.RequestCtx) {
	checks := map[string]string{"streams": "ok", "redis": "ok", "accepting": "ok"}
	ready := true
	if !s.d.Consumer.Ready() {
		checks["streams"], ready = "not consuming", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.d.Redis.Do(ctx, s.d.Redis.B().Ping().Build()).Error(); err != nil {
		checks["redis"], ready = err.Error(), false
	}
	if s.draining.Load() {
		checks["accepting"], ready = "draining", false
	}
	b, _ := json.Marshal(map[string]any{"ready": ready, "checks": checks, "sockets": s.m.open.Load()})
	c.SetContentType("application/json")
	if !ready {
		c.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	c.SetBody(b)
}
