// Package server wires the api: it opens the dependencies, registers every
// component's routes on one router, and serves them with fasthttp.
package server

import (
	"context"
	"net"
	"time"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/valyala/fasthttp"
)

// Server is the running api.
type Server struct {
	deps   *Deps
	router *rest.Router
	http   *fasthttp.Server
	// stops are run, in order, when the server shuts down (background
	// loops that components started).
	stops []func()
	// messaging and conversations are built by mountMessaging for the
	// components mounted after it (calls publish through the same
	// publisher and find or create DMs).
	messaging     *conversation.Env
	conversations *conversation.Service
}

// New builds the router with every component's routes.
func New(ctx context.Context, d *Deps) (*Server, error) {
	r := rest.NewRouter(rest.Config{
		Auth: d.Checker, AllowedOrigins: d.Cfg.AllowedOrigins, Log: d.Log, Metrics: d.Metrics, Base: ctx,
	})
	s := &Server{deps: d, router: r}
	s.health(r)
	if err := s.routes(ctx, r); err != nil {
		return nil, err
	}
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
	for _, stop := range s.stops {
		stop()
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
	mh := metrics.FastHTTPHandler(s.deps.Metrics)
	r.Handle("GET", "/metrics", func(c *rest.Ctx) error { mh(c.RC); return nil }, rest.Public())
}
