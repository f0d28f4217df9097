package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"
)

// AdminHandler serves what a process keeps off its public address: /metrics
// from reg and, when pprof is true, Go's profiles under /debug/pprof/.
// Every other path goes to next, or is 404 when next is nil.
func AdminHandler(reg *prometheus.Registry, pprof bool, next fasthttp.RequestHandler) fasthttp.RequestHandler {
	mh := FastHTTPHandler(reg)
	return func(c *fasthttp.RequestCtx) {
		path := string(c.Path())
		switch {
		case path == "/metrics":
			mh(c)
		case pprof && strings.HasPrefix(path, "/debug/pprof/"):
			pprofhandler.PprofHandler(c)
		case next != nil:
			next(c)
		default:
			c.SetStatusCode(fasthttp.StatusNotFound)
		}
	}
}
