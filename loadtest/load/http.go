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
	defer fasthttp.ReleaseRequest(req)
	c.build(req, method, path, tok, body)
	return c.send(req, keep)
}

// Prepared is a request built once and sent many times (Send): a load's
// fixed set of requests costs no formatting or header parsing per send.
type Prepared struct{ req fasthttp.Request }

// Prepare builds the request Do would send.
func (c *HTTP) Prepare(method, path, tok string, body []byte) *Prepared {
	p := &Prepared{}
	c.build(&p.req, method, path, tok, body)
	return p
}

// Send sends p, as Do with keep unset: the status, and an error for a
// status outside 2xx. p may be sent by many goroutines at once.
func (c *HTTP) Send(p *Prepared) (int, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	p.req.CopyTo(req)
	st, _, err := c.send(req, false)
	return st, err
}

func (c *HTTP) build(req *fasthttp.Request, method, path, tok string, body []byte) {
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	req.Header.SetHost(c.hc.Addr)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBody(body)
	}
}

// send sends req and reads the answer into a pooled response.
func (c *HTTP) send(req *fasthttp.Request, keep bool) (int, []byte, error) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := c.hc.Do(req, resp); err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", req.Header.Method(), req.Header.RequestURI(), err)
	}
	st := resp.StatusCode()
	var out []byte
	if keep || st/100 != 2 {
		out = append([]byte(nil), resp.Body()...)
	}
	if st/100 != 2 {
		return st, out, &StatusError{Status: st, method: string(req.Header.Method()), path: string(req.Header.RequestURI()), body: ClipBody(out)}
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
