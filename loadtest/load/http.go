package load

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// HTTP is the load generators' client of the api: fasthttp, so that a
// load generator sharing the machine's cores with the system under test
// spends as little of them as it can.
type HTTP struct {
	hc *fasthttp.HostClient
}

// NewHTTP is a client of the api at baseURL with at most conns connections.
func NewHTTP(baseURL string, conns int) *HTTP {
	return &HTTP{hc: &fasthttp.HostClient{
		Addr:                strings.TrimPrefix(baseURL, "http://"),
		MaxConns:            conns,
		ReadTimeout:         10 * time.Second,
		WriteTimeout:        10 * time.Second,
		MaxIdleConnDuration: time.Minute,
		// Wait for a free connection rather than fail: the wait is
		// counted in the latency by the open-model driver.
		MaxConnWaitTimeout: 10 * time.Second,
	}}
}

// CloseIdle drops kept-alive connections: after the api restarts they
// are dead, and a request sent on one fails.
func (c *HTTP) CloseIdle() { c.hc.CloseIdleConnections() }

// StatusError is an answer with an unexpected status.
type StatusError struct {
	Status       int
	method, path string
	body         string
}

// Error renders the request and the answer.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.Status, e.body)
}

// Do sends one request with bearer tok and a JSON body (nil for none) and
// returns the status and, when keep is set, a copy of the body. A status
// outside 2xx is an error.
func (c *HTTP) Do(method, path, tok string, body []byte, keep bool) (int, []byte, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + c.hc.Addr + path)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBody(body)
	}
	if err := c.hc.Do(req, resp); err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	st := resp.StatusCode()
	var out []byte
	if keep || st/100 != 2 {
		out = append([]byte(nil), resp.Body()...)
	}
	if st/100 != 2 {
		return st, out, &StatusError{Status: st, method: method, path: path, body: ClipBody(out)}
	}
	return st, out, nil
}

// ClipBody shortens a body for an error message: a problem's detail when
// it is one, else its first 200 bytes.
func ClipBody(b []byte) string {
	var p struct{ Detail string }
	if json.Unmarshal(b, &p) == nil && p.Detail != "" {
		return p.Detail
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
