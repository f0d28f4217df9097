// Package rest is the api's HTTP layer on fasthttp: routing with path
// parameters, authentication, CORS, request ids, metrics, strict JSON
// decoding and RFC 9457 problem responses. Handlers stay thin: parse,
// authorize (policy functions), call the domain, render.
package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/clientaddr"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/logging"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// Handler serves one route. A returned error becomes a problem response.
type Handler func(c *Ctx) error

// Authenticator checks a bearer token (signature, expiry, denylist).
type Authenticator interface {
	Check(ctx context.Context, raw string) (token.Claims, error)
}

// WriteObserver hears of every write request a signed-in user made that
// succeeded (a 2xx answer to anything but GET, HEAD and OPTIONS), before
// the answer is sent: api/replica marks the writer so their next reads
// see the write. It cannot fail the request, which is done.
type WriteObserver interface {
	Wrote(ctx context.Context, writer id.ID) error
}

// DefaultMaxBody is the request body limit of a route that sets none.
const DefaultMaxBody = 64 << 10

type route struct {
	method  string
	pattern string
	segs    []string
	public  bool
	maxBody int
	large   bool // LargeBody: a body over the server's cap
	h       Handler

	// The route's series for status 200, resolved once: most requests
	// answer 200, and resolving a series hashes its labels.
	ok      prometheus.Counter
	okTimes prometheus.Observer
}

// RouteOption changes one route.
type RouteOption func(*route)

// Public lets a route be called without a token.
func Public() RouteOption { return func(r *route) { r.public = true } }

// MaxBody sets a route's request body limit.
func MaxBody(n int) RouteOption { return func(r *route) { r.maxBody = n } }

// Router matches method and path to a handler and runs every request
// through the same steps: request id, CORS, route, auth, handler, problem
// rendering, metrics and one log line.
type Router struct {
	routes  []*route
	large   []*route
	auth    Authenticator
	origins map[string]bool
	proxies clientaddr.Proxies
	log     *slog.Logger
	base    context.Context
	writes  WriteObserver

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// Config is what a Router needs.
type Config struct {
	Auth           Authenticator
	AllowedOrigins []string
	Log            *slog.Logger
	Metrics        prometheus.Registerer
	// TrustedProxies decide whose X-Forwarded-For names a request's
	// client address (Ctx.ClientAddr); none: the connection's peer.
	TrustedProxies clientaddr.Proxies
	// Base is the parent of every request's context; cancel it to stop.
	Base context.Context
	// Writes, when set, hears of every successful write request.
	Writes WriteObserver
}

// NewRouter returns an empty router.
func NewRouter(cfg Config) *Router {
	r := &Router{auth: cfg.Auth, log: cfg.Log, base: cfg.Base, origins: map[string]bool{}, proxies: cfg.TrustedProxies,
		writes: cfg.Writes}
	if r.base == nil {
		r.base = context.Background()
	}
	for _, o := range cfg.AllowedOrigins {
		r.origins[strings.TrimRight(o, "/")] = true
	}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chatterly_api_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	r.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "chatterly_api_request_duration_seconds", Help: "HTTP request latency by route, method and status.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method", "status"})
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(r.requests, r.latency)
	}
	return r
}

// Handle adds a route. Pattern segments starting with ':' are parameters.
func (r *Router) Handle(method, pattern string, h Handler, opts ...RouteOption) {
	rt := &route{method: method, pattern: pattern, segs: split(pattern), maxBody: DefaultMaxBody, h: h}
	for _, o := range opts {
		o(rt)
	}
	r.routes = append(r.routes, rt)
	if rt.large {
		r.large = append(r.large, rt)
	}
	// The route's series exist from the start, at 0 (a dashboard's rate
	// and latency panels and the 5xx alert name them on an idle process);
	// other statuses appear when they first happen.
	rt.ok = r.requests.WithLabelValues(pattern, method, "200")
	rt.okTimes = r.latency.WithLabelValues(pattern, method, "200")
}

// Routes lists "METHOD pattern" for every route (the OpenAPI test uses it).
func (r *Router) Routes() []string {
	out := make([]string, len(r.routes))
	for i, rt := range r.routes {
		out[i] = rt.method + " " + rt.pattern
	}
	return out
}

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// match finds the route for method and the path's decoded segments. It
// returns the allowed methods when the path exists under other methods only.
func (r *Router) match(method string, segs, params []string) (*route, []string, []string) {
	var allow []string
	for _, rt := range r.routes {
		if len(rt.segs) != len(segs) {
			continue
		}
		p := params[:0]
		ok := true
		for i, s := range rt.segs {
			if strings.HasPrefix(s, ":") {
				if segs[i] == "" {
					ok = false
					break
				}
				p = append(p, s[1:], segs[i])
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, p, nil
		}
		allow = append(allow, rt.method)
	}
	return nil, nil, allow
}

// Serve is the fasthttp handler.
func (r *Router) Serve(rc *fasthttp.RequestCtx) {
	start := time.Now()
	rid := string(rc.Request.Header.Peek("X-Request-Id"))
	if len(rid) == 0 || len(rid) > 64 || strings.ContainsAny(rid, " \"\\") {
		rid = logging.NewRequestID()
	}
	rc.Response.Header.Set("X-Request-Id", rid)
	method := string(rc.Method())
	// The path as sent: fasthttp's Path() is decoded and dot-segment
	// normalized as a whole, which would let an encoded "/" route.
	path := string(rc.Request.URI().PathOriginal())
	label := "unmatched"
	var matched *route
	c := &Ctx{RC: rc, ctx: logging.WithRequestID(r.base, rid), Log: r.log, origin: r.cors(rc), proxies: &r.proxies}
	err := func() (err error) {
		// fasthttp does not recover: one handler bug must not end the
		// process and every request in it.
		defer func() {
			if p := recover(); p != nil {
				err = fault.Wrap(fmt.Errorf("panic: %v\n%s", p, debug.Stack()), "handler panicked")
			}
		}()
		segs, err := splitPath(path)
		if err != nil {
			return err
		}
		rt, params, allow := r.match(method, segs, make([]string, 0, 4))
		if method == fasthttp.MethodOptions && rt == nil && allow != nil {
			return r.preflight(rc, allow)
		}
		if rt == nil {
			if allow != nil {
				rc.Response.Header.Set("Allow", strings.Join(allow, ", "))
				return fault.Newf(fault.MethodNotAllowed, "%s is not allowed on %s", method, path)
			}
			return fault.Newf(fault.NotFound, "no route %s %s", method, path)
		}
		label, matched = rt.pattern, rt
		c.params, c.route = params, rt
		if err := checkParams(params); err != nil {
			return err
		}
		if err := checkQuery(rc.QueryArgs()); err != nil {
			return err
		}
		if !rt.public {
			if err := r.authenticate(c); err != nil {
				return err
			}
		}
		return rt.h(c)
	}()
	if err != nil {
		fe := fault.Classify(err)
		switch fe.Code {
		case fault.Internal:
			r.log.ErrorContext(c.ctx, "request failed", "route", label, "method", method, "user_id", c.Claims.UserID.String(), "err", err)
		case fault.Unavailable:
			// Not one line per request: an outage would bury the log.
			// The dependency's own outage log (api/dial) says it once.
			r.log.DebugContext(c.ctx, "request unavailable", "route", label, "method", method, "err", err)
		}
		writeProblem(rc, fe, rid)
	}
	status := rc.Response.StatusCode()
	if err == nil && status < 300 && r.writes != nil && c.Claims.UserID != 0 && isWrite(method) {
		if werr := r.writes.Wrote(c.ctx, c.Claims.UserID); werr != nil {
			// The dependency that failed logs its outage itself.
			r.log.DebugContext(c.ctx, "write not marked for read-your-writes", "route", label, "err", werr)
		}
	}
	d := time.Since(start)
	if matched != nil && status == fasthttp.StatusOK {
		matched.ok.Inc()
		matched.okTimes.Observe(d.Seconds())
	} else {
		code := strconv.Itoa(status)
		r.requests.WithLabelValues(label, method, code).Inc()
		r.latency.WithLabelValues(label, method, code).Observe(d.Seconds())
	}
	if r.log.Enabled(c.ctx, slog.LevelDebug) {
		r.log.DebugContext(c.ctx, "request", "route", label, "method", method, "status", status, "user_id", c.Claims.UserID.String(),
			"duration_ms", float64(d.Microseconds())/1000)
	}
}

// isWrite reports whether a request of method may change something.
func isWrite(method string) bool {
	return method != fasthttp.MethodGet && method != fasthttp.MethodHead && method != fasthttp.MethodOptions
}

func (r *Router) authenticate(c *Ctx) error {
	// The scheme is case-insensitive (RFC 9110 §11.1).
	h := string(c.RC.Request.Header.Peek("Authorization"))
	scheme, raw, _ := strings.Cut(h, " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return fault.New(fault.Unauthorized, "missing bearer token")
	}
	cl, err := r.auth.Check(c.ctx, raw)
	switch {
	case err == nil:
		// c.Log stays the router's: a logger with the user's id would be
		// made (five allocations) for every request and used by almost
		// none; the router's own lines name the user.
		c.Claims, c.RawToken = cl, raw
		return nil
	case errors.Is(err, token.ErrExpired):
		return fault.New(fault.TokenExpired, "the access token has expired; refresh it")
	case errors.Is(err, token.ErrMalformed), errors.Is(err, token.ErrInvalid), errors.Is(err, token.ErrRevoked):
		return fault.New(fault.Unauthorized, "invalid or revoked token")
	default:
		return &fault.Error{Code: fault.Unavailable, Message: "cannot check the token right now", Err: err}
	}
}

// cors adds the allow-list headers for an allowed browser origin and
// returns that origin ("" for none or a foreign one). Credentialed requests
// (the refresh cookie) are granted to allowed origins only, always with the
// exact origin echoed, never "*".
func (r *Router) cors(rc *fasthttp.RequestCtx) string {
	o := string(rc.Request.Header.Peek("Origin"))
	if o == "" {
		return ""
	}
	rc.Response.Header.Add("Vary", "Origin")
	if !r.origins[o] {
		return ""
	}
	h := &rc.Response.Header
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "Authorization, Retry-After, X-Request-Id, Location")
	return o
}

func (r *Router) preflight(rc *fasthttp.RequestCtx, allow []string) error {
	h := &rc.Response.Header
	if h.Peek("Access-Control-Allow-Origin") != nil {
		h.Set("Access-Control-Allow-Methods", strings.Join(append(allow, "OPTIONS"), ", "))
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
		h.Set("Access-Control-Max-Age", "600")
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// ServerErrorHandler renders fasthttp's own request errors (a body over the
// server limit, a malformed request line) as problems too.
func ServerErrorHandler(rc *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeProblem(rc, fault.New(fault.PayloadTooLarge, "the request body is too large"), "")
		return
	}
	writeProblem(rc, fault.New(fault.BadRequest, "malformed HTTP request"), "")
}

// ServerLogger routes fasthttp's own messages (connection-level errors
// such as an oversized body) into the structured log, at debug: they are
// about one client's request, which its problem response already answers.
func ServerLogger(log *slog.Logger) fasthttp.Logger { return serverLogger{log} }

type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Printf(format string, args ...any) {
	l.log.Debug("http server", "msg_detail", fmt.Sprintf(format, args...))
}
