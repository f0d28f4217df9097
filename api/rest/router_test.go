package rest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

func appRoutes(r *rest.Router) {
	r.Handle("GET", "/open", func(c *rest.Ctx) error { return c.RawJSON(200, []byte(`{}`)) }, rest.Public())
	r.Handle("GET", "/me", func(c *rest.Ctx) error {
		return c.JSON(200, map[string]any{"user": c.UserID(), "sid": c.Claims.SID})
	})
	r.Handle("GET", "/conversations/:cid/messages/:mid", func(c *rest.Ctx) error {
		cid, err := c.IDParam("cid")
		if err != nil {
			return err
		}
		return c.JSON(200, map[string]string{"cid": cid.String(), "mid": c.Param("mid"), "q": c.Query("q")})
	}, rest.Public())
	r.Handle("DELETE", "/conversations/:cid/messages/:mid", func(c *rest.Ctx) error { return c.NoContent() }, rest.Public())
	r.Handle("GET", "/appended", func(c *rest.Ctx) error {
		return c.AppendJSON(201, func(b []byte) ([]byte, error) {
			if c.Query("fail") != "" {
				b = append(b, `{"half":`...)
				return b, fault.New(fault.BadRequest, "refused halfway")
			}
			return append(b, `{"q":"`+c.Query("q")+`"}`...), nil
		})
	}, rest.Public())
	r.Handle("GET", "/boom", func(c *rest.Ctx) error {
		return fault.Wrap(errors.New("database password is hunter2"), "load")
	}, rest.Public())
	r.Handle("GET", "/panic", func(c *rest.Ctx) error { panic("handler bug") }, rest.Public())
	r.Handle("GET", "/slow-down", func(c *rest.Ctx) error {
		return &fault.Error{Code: fault.RateLimited, Message: "later", RetryAfter: 1500 * time.Millisecond}
	}, rest.Public())
}

func TestRoutingAndParams(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	r := b.do("GET", "/conversations/12/messages/34?q=hi", nil, nil)
	require.Equal(t, 200, r.status, "%s", r.body)
	require.JSONEq(t, `{"cid":"12","mid":"34","q":"hi"}`, string(r.body))

	r = b.do("GET", "/conversations/abc/messages/34", nil, nil)
	require.Equal(t, 404, r.status, "a malformed id names no resource")
	require.Equal(t, "not_found", r.problem(t)["code"])

	r = b.do("GET", "/conversations//messages/34", nil, nil)
	require.Equal(t, 404, r.status, "an empty parameter matches nothing")

	r = b.do("GET", "/nowhere", nil, nil)
	require.Equal(t, 404, r.status)
	require.Equal(t, "not_found", r.problem(t)["code"])

	r = b.do("PUT", "/conversations/12/messages/34", nil, nil)
	require.Equal(t, 405, r.status)
	require.Equal(t, "method_not_allowed", r.problem(t)["code"])
	require.Equal(t, "GET, DELETE", r.header.Get("Allow"))

	require.ElementsMatch(t, []string{"GET /open", "GET /me", "GET /conversations/:cid/messages/:mid",
		"DELETE /conversations/:cid/messages/:mid", "GET /appended", "GET /boom", "GET /panic", "GET /slow-down"}, b.router.Routes())
}

// Every client string reaches handlers as text, or the request is refused
// with 400 bad_request naming the parameter: path and query parameters
// alike, percent-encoded or not. Routing works on the path as sent, one
// segment at a time, so an encoded "/" never routes.
func TestClientStringsAreText(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	for _, tc := range []struct {
		path   string
		status int
		field  string
	}{
		{"/conversations/12/messages/%00", 400, "mid"},
		{"/conversations/12/messages/a%FFb", 400, "mid"},
		{"/conversations/12/messages/%E2%82", 400, "mid"},
		{"/conversations/12/messages/34?q=%00", 400, "q"},
		{"/conversations/12/messages/34?q=%C3%28", 400, "q"},
		{"/conversations/12/messages/34?q%00=1", 400, "q"},
		{"/conversations/12/messages/34?q=a&q=b", 400, "q"},
		{"/conversations/12/messages/34?q=a&other=%FF", 400, "other"},
		{"/conversations/12%2F..", 404, ""},
		{"/conversations/12/messages/34%2F..%2F..", 200, ""},
		{"/conversations/12/messages/..%2Fx", 200, ""},
		{"/conversations/1/../12/messages/34", 404, ""},
		{"/op%65n", 200, ""},
	} {
		r := b.do("GET", tc.path, nil, nil)
		require.Equal(t, tc.status, r.status, "%s: %s", tc.path, r.body)
		if tc.status == 200 {
			continue
		}
		p := r.problem(t)
		code := map[int]string{400: "bad_request", 404: "not_found"}[tc.status]
		require.Equal(t, code, p["code"], tc.path)
		if tc.field != "" {
			require.Equal(t, tc.field, p["field"], tc.path)
		}
	}
	// A parameter holding an encoded "/" is that parameter, decoded.
	r := b.do("GET", "/conversations/12/messages/34%2F..%2F..?q=%C3%A9+x", nil, nil)
	require.JSONEq(t, `{"cid":"12","mid":"34/../..","q":"é x"}`, string(r.body))
}

// TestAppendJSON: a body appended into the response's own buffer is the
// whole answer, request after request on one connection (the buffer is
// reused), and a fill that fails leaves no half body in the problem.
func TestAppendJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	for _, q := range []string{"a-long-first-answer", "b", ""} {
		r := b.do("GET", "/appended?q="+q, nil, nil)
		require.Equal(t, 201, r.status)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, `{"q":"`+q+`"}`, string(r.body))
	}
	r := b.do("GET", "/appended?fail=1", nil, nil)
	require.Equal(t, 400, r.status)
	require.Equal(t, "bad_request", r.problem(t)["code"])
	require.NotContains(t, string(r.body), `{"half":`)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	good := b.bearer(40)
	r := b.do("GET", "/me", nil, map[string]string{"Authorization": good})
	require.Equal(t, 200, r.status, "%s", r.body)
	require.JSONEq(t, `{"user":"7","sid":"40"}`, string(r.body))

	tok := strings.TrimPrefix(good, "Bearer ")
	for _, h := range []string{"bearer " + tok, "BEARER  " + tok + " "} {
		r = b.do("GET", "/me", nil, map[string]string{"Authorization": h})
		require.Equal(t, 200, r.status, "the scheme is case-insensitive: %q", h)
	}
	for name, h := range map[string]string{
		"none":      "",
		"no token":  "Bearer ",
		"basic":     "Basic dXNlcjpwYXNz",
		"bare":      tok,
		"malformed": "Bearer abc.def",
		"tampered":  good[:len(good)-3] + "xyz",
	} {
		hdr := map[string]string{}
		if h != "" {
			hdr["Authorization"] = h
		}
		r = b.do("GET", "/me", nil, hdr)
		require.Equal(t, 401, r.status, name)
		require.Equal(t, "unauthorized", r.problem(t)["code"], name)
	}

	require.NoError(t, b.deny.Revoke(context.Background(), 40, time.Now().Add(time.Minute)))
	r = b.do("GET", "/me", nil, map[string]string{"Authorization": good})
	require.Equal(t, 401, r.status, "a revoked session is refused at once")
	require.Equal(t, "unauthorized", r.problem(t)["code"])

	r = b.do("GET", "/open", nil, map[string]string{"Authorization": "Bearer garbage"})
	require.Equal(t, 200, r.status, "public routes do not look at the token")
}

func TestProblemDocuments(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	r := b.do("GET", "/boom", nil, map[string]string{"X-Request-Id": "req-123"})
	require.Equal(t, 500, r.status)
	p := r.problem(t)
	require.Equal(t, "internal", p["code"])
	require.Equal(t, "internal error", p["detail"], "internal causes never reach clients")
	require.NotContains(t, string(r.body), "hunter2")
	require.Equal(t, "https://chatterly.dev/problems/internal", p["type"])
	require.Equal(t, "Internal Server Error", p["title"])
	require.EqualValues(t, 500, p["status"])
	require.Equal(t, "req-123", p["request_id"])
	require.Equal(t, "req-123", r.header.Get("X-Request-Id"))

	r = b.do("GET", "/slow-down", nil, nil)
	require.Equal(t, 429, r.status)
	require.Equal(t, "2", r.header.Get("Retry-After"), "rounded up to whole seconds")
	require.EqualValues(t, 2, r.problem(t)["retry_after"])

	r = b.do("GET", "/panic", nil, nil)
	require.Equal(t, 500, r.status, "a handler panic is a 500, not a dead process")
	require.Equal(t, "internal", r.problem(t)["code"])
	require.Equal(t, 200, b.do("GET", "/open", nil, nil).status, "and the server still serves")
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	r := b.do("GET", "/open", nil, nil)
	require.Len(t, r.header.Get("X-Request-Id"), 16, "one is made when the client sends none")
	r2 := b.do("GET", "/open", nil, nil)
	require.NotEqual(t, r.header.Get("X-Request-Id"), r2.header.Get("X-Request-Id"))
	r = b.do("GET", "/open", nil, map[string]string{"X-Request-Id": `bad "id"`})
	require.Len(t, r.header.Get("X-Request-Id"), 16, "an unsafe one is replaced")
	r = b.do("GET", "/open", nil, map[string]string{"X-Request-Id": strings.Repeat("x", 65)})
	require.Len(t, r.header.Get("X-Request-Id"), 16, "an overlong one is replaced")
}

func TestCORS(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	r := b.do("GET", "/open", nil, map[string]string{"Origin": "http://app.test"})
	require.Equal(t, "http://app.test", r.header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, r.header.Get("Access-Control-Expose-Headers"), "Authorization")
	require.Contains(t, r.header.Get("Access-Control-Expose-Headers"), "Retry-After")
	require.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"), "the refresh cookie travels")
	require.Equal(t, "Origin", r.header.Get("Vary"))

	r = b.do("GET", "/open", nil, map[string]string{"Origin": "http://evil.test"})
	require.Equal(t, 200, r.status, "CORS is the browser's to enforce")
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
	require.Empty(t, r.header.Get("Access-Control-Allow-Credentials"))
	require.Equal(t, "Origin", r.header.Get("Vary"))

	// Errors carry the CORS headers too, or a browser hides them.
	r = b.do("GET", "/me", nil, map[string]string{"Origin": "http://app.test"})
	require.Equal(t, 401, r.status)
	require.Equal(t, "http://app.test", r.header.Get("Access-Control-Allow-Origin"))

	pre := map[string]string{"Origin": "http://app.test", "Access-Control-Request-Method": "DELETE",
		"Access-Control-Request-Headers": "authorization,content-type"}
	r = b.do("OPTIONS", "/conversations/1/messages/2", nil, pre)
	require.Equal(t, 204, r.status, "a preflight needs no token: %s", r.body)
	require.Equal(t, "http://app.test", r.header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "GET, DELETE, OPTIONS", r.header.Get("Access-Control-Allow-Methods"))
	require.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, r.header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Contains(t, r.header.Get("Access-Control-Allow-Headers"), "Content-Type")
	require.NotEmpty(t, r.header.Get("Access-Control-Max-Age"))

	pre["Origin"] = "http://evil.test"
	r = b.do("OPTIONS", "/conversations/1/messages/2", nil, pre)
	require.Equal(t, 204, r.status)
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"), "a foreign origin's preflight gets no grant")
	require.Empty(t, r.header.Get("Access-Control-Allow-Methods"))

	r = b.do("OPTIONS", "/nowhere", nil, map[string]string{"Origin": "http://app.test"})
	require.Equal(t, 404, r.status)
}

// Metrics count requests and time them by route pattern (not raw path, so
// ids do not explode the label space), method and status.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, appRoutes)
	b.do("GET", "/conversations/1/messages/2", nil, nil)
	b.do("GET", "/conversations/3/messages/4", nil, nil)
	b.do("GET", "/me", nil, nil)
	b.do("GET", "/nowhere/at/all", nil, nil)

	fams, err := b.reg.Gather()
	require.NoError(t, err)
	counts := map[string]float64{}
	hist := map[string]uint64{}
	zeros := 0 // the series every route has from the start
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := labels(m)
			switch f.GetName() {
			case "chatterly_api_requests_total":
				if v := m.GetCounter().GetValue(); v > 0 {
					counts[key] = v
				} else {
					zeros++
				}
			case "chatterly_api_request_duration_seconds":
				hist[key] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{
		"GET /conversations/:cid/messages/:mid 200": 2,
		"GET /me 401":       1,
		"GET unmatched 404": 1,
	}
	require.Equal(t, want, counts)
	require.NotZero(t, zeros, "every route's series exists at 0 before its first request")
	for k, n := range want {
		require.EqualValues(t, n, hist[k], "latency histogram for %s", k)
	}
}

func labels(m *dto.Metric) string {
	v := map[string]string{}
	for _, l := range m.GetLabel() {
		v[l.GetName()] = l.GetValue()
	}
	return v["method"] + " " + v["route"] + " " + v["status"]
}
