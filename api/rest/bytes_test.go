package rest_test

import (
	"testing"

	"github.com/chatterly/chatterly/api/rest"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

func largeRouter() *rest.Router {
	r := rest.NewRouter(rest.Config{})
	appRoutes(r)
	r.Handle("PUT", "/files/:id/content", func(c *rest.Ctx) error { return c.NoContent() }, rest.LargeBody(25<<20))
	r.Handle("PUT", "/other/:id", func(c *rest.Ctx) error { return c.NoContent() })
	return r
}

func header(method, uri string) *fasthttp.RequestHeader {
	var h fasthttp.RequestHeader
	h.SetMethod(method)
	h.SetRequestURI(uri)
	return &h
}

// Only a LargeBody route's requests get its limit; every other request
// keeps the server's (a zero RequestConfig).
func TestHeaderReceivedRaisesTheLimitOfLargeBodyRoutesOnly(t *testing.T) {
	t.Parallel()
	r := largeRouter()
	require.Equal(t, 25<<20, r.HeaderReceived(header("PUT", "/files/123/content")).MaxRequestBodySize)
	require.Equal(t, 25<<20, r.HeaderReceived(header("PUT", "/files/123/content?x=1")).MaxRequestBodySize)
	for _, h := range []*fasthttp.RequestHeader{header("POST", "/files/123/content"), header("PUT", "/other/1"),
		header("PUT", "/files/123/content/more"), header("GET", "/me"), header("PUT", "/files/%zz/content")} {
		require.Zero(t, r.HeaderReceived(h).MaxRequestBodySize, "%s %s", h.Method(), h.RequestURI())
	}
	require.Zero(t, rest.NewRouter(rest.Config{}).HeaderReceived(header("PUT", "/files/1/content")).MaxRequestBodySize)
}

// What every request pays for the upload route's own limit: the hook on a
// hot path's request (GET, POST) compares the method and returns.
func BenchmarkHeaderReceived(b *testing.B) {
	r := largeRouter()
	for _, h := range []*fasthttp.RequestHeader{header("GET", "/conversations/1/messages/2"), header("POST", "/conversations/1/messages/2"),
		header("PUT", "/files/123/content")} {
		b.Run(string(h.Method()), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.HeaderReceived(h)
			}
		})
	}
}
