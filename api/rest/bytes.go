package rest

import (
	"io"
	"strconv"
	"strings"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/valyala/fasthttp"
)

// Routes whose bodies are files rather than JSON: their limit may exceed
// the server's body cap (API_MAX_BODY_BYTES), which every other route
// keeps. fasthttp reads a body before the handler runs, so the limit is
// chosen per request from its headers (HeaderReceived), not by turning on
// streamed bodies for every route: the hot paths pay one method compare.

// LargeBody sets a route's body limit to n, above the server's cap if need
// be. Use it for upload routes only; their bodies are read whole into
// memory, so n bounds the memory one request may take.
func LargeBody(n int) RouteOption {
	return func(r *route) { r.maxBody, r.large = n, true }
}

// HeaderReceived is fasthttp.Server.HeaderReceived: it raises the body
// limit of a request to a LargeBody route to that route's, and leaves
// every other request at the server's.
func (r *Router) HeaderReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if len(r.large) == 0 {
		return fasthttp.RequestConfig{}
	}
	method := h.Method()
	for _, rt := range r.large {
		if string(method) != rt.method {
			continue
		}
		uri := string(h.RequestURI())
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		segs, err := splitPath(uri)
		if err != nil {
			return fasthttp.RequestConfig{}
		}
		if m, _, _ := r.match(rt.method, segs, make([]string, 0, 4)); m != nil && m.large {
			return fasthttp.RequestConfig{MaxRequestBodySize: m.maxBody}
		}
	}
	return fasthttp.RequestConfig{}
}

// Bytes returns the request body as sent (any content type), at most the
// route's limit (413). It is the request's own buffer: copy what outlives
// the handler.
func (c *Ctx) Bytes() ([]byte, error) {
	body := c.RC.Request.Body()
	if len(body) > c.route.maxBody {
		return nil, fault.Newf(fault.PayloadTooLarge, "the request body is larger than %d bytes", c.route.maxBody)
	}
	return body, nil
}

// Redirect answers 302 to url, not to be cached.
func (c *Ctx) Redirect(url string) error {
	c.RC.Response.Header.Set("Location", url)
	c.RC.Response.Header.Set("Cache-Control", "no-store")
	c.RC.SetStatusCode(fasthttp.StatusFound)
	return nil
}

// Send answers 200 with size bytes of body, which it closes once sent, as
// contentType with the given headers. The browser is told not to guess
// another type (nosniff) and to run nothing of it (a sandbox CSP), since
// it comes from users.
func (c *Ctx) Send(contentType string, size int64, body io.ReadCloser, headers map[string]string) error {
	h := &c.RC.Response.Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	for k, v := range headers {
		h.Set(k, v)
	}
	c.RC.SetStatusCode(fasthttp.StatusOK)
	c.RC.SetContentType(contentType)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	c.RC.SetBodyStream(body, int(size))
	return nil
}
