package rest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/shared/clientaddr"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/valyala/fasthttp"
)

// Ctx is one request as a handler sees it. It must not be kept after the
// handler returns (fasthttp reuses the request and its byte slices): copy
// what you need.
type Ctx struct {
	RC *fasthttp.RequestCtx
	// Claims of the caller's access token; zero on public routes.
	Claims token.Claims
	// RawToken is the caller's bearer token (never log it).
	RawToken string
	// Log is the api's logger. It does not name the caller: add
	// "user_id" to a line that should.
	Log *slog.Logger

	ctx     context.Context
	origin  string   // the request's Origin when it is on the allow-list
	params  []string // name, value, name, value...
	route   *route
	proxies *clientaddr.Proxies
}

// Context carries the request id and is cancelled when the server stops.
func (c *Ctx) Context() context.Context { return c.ctx }

// UserID is the authenticated caller.
func (c *Ctx) UserID() id.ID { return c.Claims.UserID }

// Param returns the path parameter name (":name" in the pattern).
func (c *Ctx) Param(name string) string {
	for i := 0; i+1 < len(c.params); i += 2 {
		if c.params[i] == name {
			return c.params[i+1]
		}
	}
	return ""
}

// IDParam parses the path parameter name as an id; a malformed one is
// not_found, since no resource can have it.
func (c *Ctx) IDParam(name string) (id.ID, error) {
	v, err := id.Parse(c.Param(name))
	if err != nil {
		return 0, fault.Newf(fault.NotFound, "no such %s", name)
	}
	return v, nil
}

// Query returns a query-string value as a string.
func (c *Ctx) Query(name string) string { return string(c.RC.QueryArgs().Peek(name)) }

// AllowedOrigin is the request's Origin when it is on the allow-list
// (ALLOWED_ORIGINS), "" when the request has none or a foreign one. A
// browser sends Origin on every cross-origin request and on every POST or
// DELETE, and a page cannot forge it, so a non-empty value means a page of
// one of our web clients made the request.
func (c *Ctx) AllowedOrigin() string { return c.origin }

// ClientAddr is the caller's IP address, for per-address limits: the
// connection's peer, or, when that peer is a trusted proxy
// (TRUSTED_PROXIES), the client its X-Forwarded-For names — by the one
// rule the edge uses too (clientaddr.Proxies.Client).
func (c *Ctx) ClientAddr() string {
	peer, _ := netip.AddrFromSlice(c.RC.RemoteIP())
	if c.proxies == nil || c.proxies.Empty() {
		return peer.Unmap().String()
	}
	var xff []byte
	for i, v := range c.RC.Request.Header.PeekAll("X-Forwarded-For") {
		if i > 0 {
			xff = append(xff, ',')
		}
		xff = append(xff, v...)
	}
	return c.proxies.Client(peer, string(xff)).String()
}

// JSON writes v with status.
func (c *Ctx) JSON(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fault.Wrap(err, "encode response")
	}
	c.RC.SetStatusCode(status)
	c.RC.SetContentType("application/json")
	c.RC.SetBody(b)
	return nil
}

// RawJSON writes pre-encoded JSON with status.
func (c *Ctx) RawJSON(status int, b []byte) error {
	c.RC.SetStatusCode(status)
	c.RC.SetContentType("application/json")
	c.RC.SetBody(b)
	return nil
}

// AppendJSON writes with status the JSON that fill appends to the
// response's own pooled body buffer: a hot handler that encodes by hand
// allocates no body of its own. On an error nothing is written.
func (c *Ctx) AppendJSON(status int, fill func(b []byte) ([]byte, error)) error {
	buf := c.RC.Response.SwapBody(nil)
	b, err := fill(buf[:0])
	if err != nil {
		c.RC.Response.SwapBody(buf[:0])
		return err
	}
	c.RC.SetStatusCode(status)
	c.RC.SetContentType("application/json")
	c.RC.Response.SwapBody(b)
	return nil
}

// NoContent answers 204.
func (c *Ctx) NoContent() error {
	c.RC.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}
