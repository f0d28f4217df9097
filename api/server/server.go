// Package server wires the api: it opens the dependencies (deps.go), builds
// every component from them (services.go), registers their routes on one
// router (routes.go), and serves them with fasthttp.
package server

import (
	"context"
	"net"
	"time"

	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/background"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/valyala/fasthttp"
)

// Server is the running api.
type Server struct {
	deps   *Deps
	router *rest.Router
	http   *fasthttp.Server
	// admin serves API_ADMIN_ADDR: /metrics, and pprof when enabled.
	admin *fasthttp.Server
	// stopLoops stops the components' background loops (the publisher's
	// marker loop, the replica router's look at the replica) once requests
	// have drained.
	stopLoops func()
}

// New assembles the api in three steps: build every component from d
// (buildServices), mount their routes (services.mount) beside the health
// routes, and start their background loops, which Shutdown stops.
func New(ctx context.Context, d *Deps) (*Server, error) {
	svc, err := buildServices(d)
	if err != nil {
		return nil, err
	}
	r := rest.NewRouter(rest.Config{
		Auth: d.Checker, AllowedOrigins: d.Cfg.AllowedOrigins, Log: d.Log, Metrics: d.Metrics, Base: ctx,
		TrustedProxies: d.Cfg.TrustedProxies,
		Writes:         d.Replica,
	})
	s := &Server{deps: d, router: r}
	s.health(r)
	svc.mount(r)
	s.stopLoops = background.Start(ctx, svc.publisher.Run, d.Replica.Run)
	s.http = &fasthttp.Server{
		Handler: r.Serve,
		// Upload routes take bodies past MaxRequestBodySize; only they.
		HeaderReceived:     r.HeaderReceived,
		ErrorHandler:       rest.ServerErrorHandler,
		Logger:             rest.ServerLogger(d.Log),
		Name:               "chatterly",
		MaxRequestBodySize: d.Cfg.MaxBodyBytes,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       30 * time.Second,
		IdleTimeout:        2 * time.Minute,
		NoDefaultDate:      true,
		CloseOnShutdown:    true,
	}
	s.admin = &fasthttp.Server{
		Handler:         metrics.AdminHandler(d.Metrics, d.Cfg.Pprof, nil),
		Name:            "chatterly-api-admin",
		Concurrency:     16,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    time.Minute, // a CPU profile takes 30 s by default
		NoDefaultDate:   true,
		CloseOnShutdown: true,
	}
	return s, nil
}

// Router returns the router (tests list its routes).
func (s *Server) Router() *rest.Router { return s.router }

// Serve serves the REST API, /healthz and /readyz on ln (API_ADDR) until
// Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// ServeAdmin serves /metrics, and Go's profiles under /debug/pprof/ when
// API_PPROF is set, on ln (API_ADMIN_ADDR) until Shutdown.
func (s *Server) ServeAdmin(ln net.Listener) error { return s.admin.Serve(ln) }

// Shutdown stops accepting, waits for requests in flight (bounded by ctx),
// then stops the components' background loops and the admin address,
// which stays up to the end so a scrape sees the drain.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.ShutdownWithContext(ctx)
	s.stopLoops()
	if aerr := s.admin.ShutdownWithContext(ctx); err == nil {
		err = aerr
	}
	return err
}

func (s *Server) health(r *rest.Router) {
	r.Handle("GET", "/healthz", func(c *rest.Ctx) error {
		return c.RawJSON(200, []byte(`{"status":"ok"}`))
	}, rest.Public())
	r.Handle("GET", "/readyz", func(c *rest.Ctx) error {
		ctx, cancel := context.WithTimeout(c.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{"postgres": "ok", "redis": "ok"}
		ok := true
		if err := s.deps.DB.Ping(ctx); err != nil {
			checks["postgres"], ok = err.Error(), false
		}
		if err := s.deps.Redis.Do(ctx, s.deps.Redis.B().Ping().Build()).Error(); err != nil {
			checks["redis"], ok = err.Error(), false
		}
		status := 200
		if !ok {
			status = 503
		}
		return c.JSON(status, map[string]any{"ready": ok, "checks": checks})
	}, rest.Public())
}
