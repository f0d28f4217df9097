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
		Handler:            r.Serve,
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
	return s, nil
}

// Router returns the router (tests list its routes).
func (s *Server) Router() *rest.Router { return s.router }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.http.Serve(ln) }

// Shutdown stops accepting, waits for requests in flight (bounded by ctx),
// then stops the components' background loops.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.ShutdownWithContext(ctx)
	s.stopLoops()
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
	mh := metrics.FastHTTPHandler(s.deps.Metrics)
	r.Handle("GET", "/metrics", func(c *rest.Ctx) error { mh(c.RC); return nil }, rest.Public())
}
