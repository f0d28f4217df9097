package worker

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatterly/chatterly/shared/metrics"
	"github.com/valyala/fasthttp"
)

// healthServer serves /healthz (the process is up), /readyz (Postgres and
// Redis answer) and /metrics.
func (w *Worker) healthServer() *fasthttp.Server {
	mh := metrics.FastHTTPHandler(w.reg)
	return &fasthttp.Server{
		Name:          "chatterly-worker",
		ReadTimeout:   10 * time.Second,
		WriteTimeout:  10 * time.Second,
		NoDefaultDate: true,
		Handler: func(rc *fasthttp.RequestCtx) {
			switch string(rc.Path()) {
			case "/healthz":
				rc.SetContentType("application/json")
				rc.SetBodyString(`{"status":"ok"}`)
			case "/readyz":
				w.ready(rc)
			case "/metrics":
				mh(rc)
			default:
				rc.SetStatusCode(fasthttp.StatusNotFound)
			}
		},
	}
}

// ready answers 200 when Postgres and Redis answer within 2 s, 503 with
// the failing checks otherwise.
func (w *Worker) ready(rc *fasthttp.RequestCtx) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "ok", "redis": "ok"}
	ok := true
	if err := w.db.Ping(ctx); err != nil {
		checks["postgres"], ok = err.Error(), false
	}
	if err := w.rdb.Do(ctx, w.rdb.B().Ping().Build()).Error(); err != nil {
		checks["redis"], ok = err.Error(), false
	}
	if !ok {
		rc.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	b, _ := json.Marshal(map[string]any{"ready": ok, "checks": checks})
	rc.SetContentType("application/json")
	rc.SetBody(b)
}
